"""Turning answers (1..5) into trait scores (0..100)."""

from questions import QUESTIONS


class InvalidAnswers(ValueError):
    pass


def score(quiz_type, answers):
    if not isinstance(answers, dict) or not answers:
        raise InvalidAnswers("answers must be a non-empty object of question id to 1..5")
    totals = {}
    for question_id, value in answers.items():
        if question_id not in QUESTIONS or QUESTIONS[question_id][0] != quiz_type:
            raise InvalidAnswers(f"unknown question {question_id!r} for quiz type {quiz_type!r}")
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise InvalidAnswers(f"answer to {question_id!r} must be an integer from 1 to 5")
        _, trait, reverse = QUESTIONS[question_id]
        points = 6 - value if reverse else value
        totals.setdefault(trait, []).append(points)
    return {trait: round((sum(p) / len(p) - 1) * 25, 1) for trait, p in sorted(totals.items())}
