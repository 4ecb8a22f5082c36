"""``_redirects``, ``_headers`` and ``run_worker_first`` route patterns, parsed and matched as Cloudflare does.

Ported from workers-sdk ``workers-shared/utils/configuration/{parseRedirects,parseHeaders,parseStaticRouting,
validateURL}.ts`` and ``asset-worker/src/utils/rules-engine.ts``. Invalid lines are skipped with a message
(wrangler warns and deploys the rest); only invalid ``run_worker_first`` rules are an error, as on deploy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from portflare.errors import ConfigError
from portflare.runtime.assets.paths import normalize_pathname

MAX_LINE_LENGTH = 2000
MAX_HEADER_RULES = 100
MAX_DYNAMIC_REDIRECT_RULES = 100
MAX_STATIC_REDIRECT_RULES = 2000
MAX_ROUTES_RULES = 100
MAX_ROUTES_RULE_LENGTH = 100
REDIRECT_STATUSES = (200, 301, 302, 303, 307, 308)
UNSET_OPERATOR = "! "

_URL = re.compile(r"^https://+(?P<host>[^/]+)/?(?P<path>.*)")
_HOST_WITH_PORT = re.compile(r".*:\d+$")
_PLACEHOLDER = re.compile(r":([A-Za-z]\w*)")
_REGEX_SPECIAL = re.compile(r"[-/\\^$*+?.()|\[\]{}]")
_LINE_IS_PATH = re.compile(r"^([^\s]+://|/)")


# -- URLs in rules ---------------------------------------------------------------------------------------

def _extract_pathname(path: str, include_search: bool, include_hash: bool) -> str:
    if not path.startswith("/"):
        path = f"/{path}"
    parts = urlsplit(f"relative://{path}")
    pathname = normalize_pathname(parts.path or "/")
    search = f"?{parts.query}" if include_search and parts.query else ""
    fragment = f"#{parts.fragment}" if include_hash and parts.fragment else ""
    return f"{pathname}{search}{fragment}"


def validate_url(token: str, only_relative: bool = False, disallow_ports: bool = False,
                 include_search: bool = False, include_hash: bool = False) -> tuple[str | None, str | None]:
    """(normalised URL, None) or (None, the reason it is skipped)."""
    host = _URL.match(token)
    if host and host.group("host"):
        if only_relative:
            return None, f"Only relative URLs are allowed. Skipping absolute URL {token}."
        if disallow_ports and _HOST_WITH_PORT.match(host.group("host")):
            return None, f"Specifying ports is not supported. Skipping absolute URL {token}."
        path = _extract_pathname(host.group("path"), include_search, include_hash)
        return f"https://{host.group('host')}{path}", None
    if only_relative and not token.startswith("/"):
        token = f"/{token}"
    if token.startswith("/"):
        return _extract_pathname(token, include_search, include_hash), None
    if only_relative:
        return None, "URLs should begin with a forward-slash."
    return None, ('URLs should either be relative (e.g. begin with a forward-slash), or use HTTPS (e.g. begin '
                  'with "https://").')


def url_has_host(token: str) -> bool:
    match = _URL.match(token)
    return bool(match and match.group("host"))


# -- Rule patterns: `*` is the splat, `:name` a placeholder ------------------------------------------------

def _escape(text: str) -> str:
    return _REGEX_SPECIAL.sub(lambda m: "\\" + m.group(0), text)


def compile_rule(rule: str) -> re.Pattern[str]:
    """A rule as a regex: ``*`` captures ``splat``; ``:name`` captures up to ``/`` (and ``.`` in a host)."""
    host, path = "", rule
    if rule.startswith("https://"):
        slash = rule.find("/", len("https://"))
        host, path = (rule, "") if slash < 0 else (rule[:slash], rule[slash:])

    def part(text: str, stop: str) -> str:
        escaped = "(?P<splat>.*)".join(_escape(piece) for piece in text.split("*"))
        return _PLACEHOLDER.sub(lambda m: f"(?P<{m.group(1)}>[^{stop}]+)", escaped)

    # A duplicate group name (two `*`, or `:a` twice) raises re.error here, as the JS RegExp throws there.
    return re.compile(f"^{part(host, '/.')}{part(path, '/')}$")


def compile_glob(rule: str) -> re.Pattern[str]:
    """A ``run_worker_first`` pattern: only ``*`` is special (it matches anything, ``/`` included)."""
    return re.compile("^" + ".*".join(_escape(piece) for piece in rule.split("*")) + "$")


def replace_placeholders(text: str, groups: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: groups.get(m.group(1), m.group(0)), text)


def _is_dynamic(path: str) -> bool:
    return "*" in path or bool(_PLACEHOLDER.search(path))


# -- _redirects -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RedirectRule:
    source: str
    to: str
    status: int
    line_number: int


@dataclass
class Redirects:
    static: dict[str, RedirectRule] = field(default_factory=dict)  # exact paths (or https://host/path)
    dynamic: list[tuple[bool, re.Pattern[str], RedirectRule]] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)

    def match(self, host: str, hostname: str, pathname: str) -> tuple[int, str] | None:
        """(status, target) for the first rule matching, static rules first, as the asset worker checks them."""
        with_host, without_host = self.static.get(f"https://{host}{pathname}"), self.static.get(pathname)
        static: RedirectRule | None
        if with_host and without_host:
            static = with_host if with_host.line_number < without_host.line_number else without_host
        else:
            static = with_host or without_host
        if static:
            return static.status, static.to
        for cross_host, regex, rule in self.dynamic:
            found = regex.match(f"https://{hostname}{pathname}" if cross_host else pathname)
            if found:
                target = replace_placeholders(rule.to, {k: v for k, v in found.groupdict().items() if v is not None})
                target = target.strip()
                if not re.match(r"^\w+://", target):  # relative targets lose duplicate slashes
                    target = re.sub(r"/+", "/", target)
                return rule.status, target
        return None


def parse_redirects(text: str, html_handling: str = "auto-trailing-slash") -> Redirects:
    redirects = Redirects()
    lines = text.split("\n")
    seen: set[str] = set()
    static_count = dynamic_count = 0
    can_be_static = True
    seen_dynamic = False
    for i, raw in enumerate(lines):
        line, where = raw.strip(), f"line {i + 1}"
        if not line or line.startswith("#"):
            continue
        if len(line) > MAX_LINE_LENGTH:
            redirects.invalid.append(f"Ignoring {where} as it exceeds the maximum allowed length of "
                                     f"{MAX_LINE_LENGTH}.")
            continue
        tokens = line.split()
        comment = next((n for n, tok in enumerate(tokens) if n >= 2 and tok.startswith("#")), None)
        tokens = tokens[:comment] if comment is not None else tokens
        if not 2 <= len(tokens) <= 3:
            redirects.invalid.append(f"{where}: Expected exactly 2 or 3 whitespace-separated tokens. "
                                     f"Got {len(tokens)}.")
            continue
        source, error = validate_url(tokens[0], False, True)
        if source is None:
            redirects.invalid.append(f"{where}: {error}")
            continue
        if can_be_static and not _is_dynamic(source):
            static_count += 1
            if static_count > MAX_STATIC_REDIRECT_RULES:
                redirects.invalid.append(f"Maximum number of static rules supported is "
                                         f"{MAX_STATIC_REDIRECT_RULES}. Skipping line.")
                continue
        else:
            dynamic_count += 1
            can_be_static = False
            if dynamic_count > MAX_DYNAMIC_REDIRECT_RULES:
                redirects.invalid.append(f"Maximum number of dynamic rules supported is "
                                         f"{MAX_DYNAMIC_REDIRECT_RULES}. Skipping remaining {len(lines) - i} "
                                         f"lines of file.")
                break
        to, error = validate_url(tokens[1], False, False, True, True)
        if to is None:
            redirects.invalid.append(f"{where}: {error}")
            continue
        status_text = tokens[2] if len(tokens) == 3 else "302"
        if not status_text.isdigit() or int(status_text) not in REDIRECT_STATUSES:
            redirects.invalid.append(f"{where}: Valid status codes are 200, 301, 302 (default), 303, 307, or 308. "
                                     f"Got {status_text}.")
            continue
        status = int(status_text)
        # `/* /index.html` always loops, `/ /index` loops once html_handling strips `/index` again.
        relative = not url_has_host(to)
        wildcard_to_index = source.endswith("/*") and re.search(r"/index(\.html)?$", to) is not None
        root_to_index = source.endswith("/") and re.search(r"/index(\.html)?$", to) is not None
        if relative and (wildcard_to_index or (root_to_index and html_handling != "none")):
            redirects.invalid.append(f"{where}: Infinite loop detected in this rule and has been ignored.")
            continue
        if source in seen:
            redirects.invalid.append(f"{where}: Ignoring duplicate rule for path {source}.")
            continue
        seen.add(source)
        if status == 200 and not relative:
            redirects.invalid.append(f"{where}: Proxy (200) redirects can only point to relative paths. Got {to}")
            continue
        rule = RedirectRule(source, to, status, i + 1)
        if not _is_dynamic(source) and not seen_dynamic:
            redirects.static[source] = rule
            continue
        seen_dynamic = True  # later exact paths are matched in order with the patterns, not before them
        try:
            redirects.dynamic.append((source.startswith("https://"), compile_rule(source), rule))
        except re.error:
            redirects.invalid.append(f"{where}: cannot compile rule {source}")
    return redirects


# -- _headers ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HeaderRule:
    path: str
    set: dict[str, str]
    unset: tuple[str, ...]


@dataclass
class HeaderRules:
    rules: list[tuple[bool, re.Pattern[str], HeaderRule]] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)

    def matching(self, hostname: str, pathname: str) -> Iterable[tuple[dict[str, str], tuple[str, ...]]]:
        """(headers to set, header names to unset) of every rule matching, in file order."""
        for cross_host, regex, rule in self.rules:
            found = regex.match(f"https://{hostname}{pathname}" if cross_host else pathname)
            if found:
                groups = {k: v for k, v in found.groupdict().items() if v is not None}
                yield {k: replace_placeholders(v, groups) for k, v in rule.set.items()}, rule.unset


def parse_headers(text: str) -> HeaderRules:
    parsed = HeaderRules()
    lines = text.split("\n")
    current: tuple[str, dict[str, str], list[str]] | None = None

    def close() -> None:
        if current is None:
            return
        path, headers, unset = current
        if not headers and not unset:
            parsed.invalid.append(f"{path}: No headers specified")
            return
        try:
            parsed.rules.append((path.startswith("https://"), compile_rule(path),
                                 HeaderRule(path, headers, tuple(unset))))
        except re.error:
            parsed.invalid.append(f"{path}: cannot compile rule")

    for i, raw in enumerate(lines):
        line, where = raw.strip(), f"line {i + 1}"
        if not line or line.startswith("#"):
            continue
        if len(line) > MAX_LINE_LENGTH:
            parsed.invalid.append(f"Ignoring {where} as it exceeds the maximum allowed length of {MAX_LINE_LENGTH}.")
            continue
        if _LINE_IS_PATH.match(line):
            if len(parsed.rules) >= MAX_HEADER_RULES:
                parsed.invalid.append(f"Maximum number of rules supported is {MAX_HEADER_RULES}. Skipping "
                                      f"remaining {len(lines) - i} lines of file.")
                current = None
                break
            close()
            path, error = validate_url(line, False, True)
            if path is None:
                parsed.invalid.append(f"{where}: {error}")
                current = None
                continue
            current = (path, {}, [])
            continue
        if ":" not in line:
            if current is None:
                parsed.invalid.append(f"{where}: Expected a path beginning with at least one forward-slash")
            elif line.startswith(UNSET_OPERATOR):
                current[2].append(line.replace(UNSET_OPERATOR, "", 1))
            else:
                parsed.invalid.append(f"{where}: Expected a colon-separated header pair (e.g. name: value)")
            continue
        raw_name, _, raw_value = line.partition(":")
        name, value = raw_name.strip().lower(), raw_value.strip()
        if " " in name:
            parsed.invalid.append(f"{where}: Header name cannot include spaces")
        elif not name:
            parsed.invalid.append(f"{where}: No header name specified")
        elif not value:
            parsed.invalid.append(f"{where}: No header value specified")
        elif current is None:
            parsed.invalid.append(f"{where}: Path should come before header ({name}: {value})")
        else:
            headers = current[1]
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
    close()
    return parsed


# -- run_worker_first route patterns ----------------------------------------------------------------------

@dataclass(frozen=True)
class StaticRouting:
    """``run_worker_first = [...]``: ``/pattern`` routes to the Worker, ``!/pattern`` to assets (checked first)."""

    user_worker: tuple[re.Pattern[str], ...]
    asset_worker: tuple[re.Pattern[str], ...]

    def worker_first(self, pathname: str) -> bool:
        if any(p.match(pathname) for p in self.asset_worker):
            return False
        return any(p.match(pathname) for p in self.user_worker)


def parse_static_routing(rules: Iterable[str]) -> StaticRouting:
    """Validate as wrangler does on deploy; an invalid list raises ``ConfigError`` with every problem."""
    rules = list(rules)
    if not rules:
        raise ConfigError("No `run_worker_first` rules were provided; must provide at least 1 rule.")
    if len(rules) > MAX_ROUTES_RULES:
        raise ConfigError(f"Too many `run_worker_first` rules were provided; {len(rules)} rules provided exceeds "
                          f"max of {MAX_ROUTES_RULES}.")
    negative_raw: list[str] = []
    negative: list[str] = []
    positive: list[str] = []
    problems: list[str] = []
    for rule in rules:
        if rule.startswith("!/"):
            negative.append(rule[1:])
            negative_raw.append(rule)
        elif rule.startswith("/"):
            positive.append(rule)
        elif rule.startswith("!"):
            problems.append(f"'{rule}': negative rules must start with '!/'")
        else:
            problems.append(f"'{rule}': rules must start with '/' or '!/'")
    if negative and not positive:
        raise ConfigError("Only negative `run_worker_first` rules were provided; must provide at least 1 "
                          "non-negative rule")
    problems += _validate_routes(positive) + _validate_routes(negative_raw)
    if problems:
        raise ConfigError("Invalid routes in `run_worker_first`:\n" + "\n".join(problems))
    return StaticRouting(tuple(compile_glob(r) for r in positive), tuple(compile_glob(r) for r in negative))


def _validate_routes(rules: list[str]) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for rule in rules:
        if len(rule) > MAX_ROUTES_RULE_LENGTH:
            problems.append(f"'{rule}': all rules must be less than {MAX_ROUTES_RULE_LENGTH} characters in length")
        if rule in seen:
            problems.append(f"'{rule}': rule is a duplicate; rules must be unique")
        if rule.endswith("*"):
            problems += [f"'{other}': rule '{rule}' makes it redundant"
                         for other in rules if other != rule and other.startswith(rule[:-1])]
        seen.add(rule)
    return problems
