"""An SVG share card for a result: one bar per trait."""

from html import escape


def render(result_id, quiz_type, scores):
    rows = []
    for i, (trait, value) in enumerate(sorted(scores.items())):
        y = 90 + i * 36
        width = int(3.2 * float(value))
        rows.append(
            f'<text x="24" y="{y + 16}" font-size="16">{escape(trait)}</text>'
            f'<rect x="200" y="{y}" width="{width}" height="22" rx="4" fill="#f6821f"/>'
            f'<text x="{210 + width}" y="{y + 16}" font-size="14">{value}</text>'
        )
    height = 110 + 36 * len(scores)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="600" height="{height}" '
        f'viewBox="0 0 600 {height}" font-family="sans-serif">'
        f'<rect width="600" height="{height}" fill="#fff8f0"/>'
        f'<text x="24" y="48" font-size="26" font-weight="bold">My {escape(quiz_type)} personality</text>'
        f'<text x="24" y="72" font-size="12" fill="#888">result {escape(result_id)}</text>'
        + "".join(rows)
        + "</svg>"
    )
