"""Information requests (clock stops): rounds of questions and the manufacturer's answers.

Pure rules. A round is opened by the agency at intake (`mark_incomplete`: the missing items)
or by the assessor during the assessment (`request_information`: numbered questions, each with
an optional due date that must fall within the stage's deadline). The manufacturer answers
every question, then sends the answers, which resumes the clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

INTAKE = "intake"
ASSESSMENT = "assessment"
ROUND_KINDS: tuple[str, ...] = (INTAKE, ASSESSMENT)

# The transition that opens a round of each kind, the state the request waits in meanwhile,
# and the transition that sends the answers.
OPENING_TRIGGER = {INTAKE: "mark_incomplete", ASSESSMENT: "request_information"}
WAITING_STATE = {INTAKE: "incomplete", ASSESSMENT: "information_requested"}
SENDING_TRIGGER = {INTAKE: "resubmit", ASSESSMENT: "answer_information"}
KIND_OF_TRIGGER = {trigger: kind for kind, trigger in OPENING_TRIGGER.items()}
# The transition data holding the questions of each kind.
QUESTIONS_FIELD = {INTAKE: "missing_items", ASSESSMENT: "questions"}

# Transitions that end a round without answers.
ENDING_TRIGGERS = frozenset({"lapse_incomplete", "lapse_information", "withdraw"})

MAX_QUESTIONS = 50
MAX_QUESTION_LENGTH = 5000
MAX_ANSWER_LENGTH = 20000

E_DUE_NOT_FUTURE = "due_not_future"
E_DUE_AFTER_DEADLINE = "due_after_deadline"


def due_date_problem(due_on: date | None, today: date, deadline: date | None) -> str | None:
    """Why a question's due date is refused: it must be after today and, when the stage has
    a deadline, not after it."""
    if due_on is None:
        return None
    if due_on <= today:
        return E_DUE_NOT_FUTURE
    if deadline is not None and due_on > deadline:
        return E_DUE_AFTER_DEADLINE
    return None


def unanswered(numbers_and_answers: Iterable[tuple[int, str | None]]) -> list[int]:
    """The numbers of the questions whose answer is missing or blank."""
    return [number for number, text in numbers_and_answers if not (text or "").strip()]
