"""Confirming a destructive action without JavaScript: its form posts without
`confirm`, and the same route answers with a page that says what will happen
and who will see it, whose "Yes" button posts the same fields again with
`confirm=yes`. A stray POST (a double click, an old tab) therefore only ever
shows the question. Check the asker's permission before asking, so the page
tells nobody what they could not see."""

from __future__ import annotations

from dataclasses import dataclass

from quart import render_template, request

CONFIRM_FIELD = "confirm"


@dataclass(frozen=True)
class Question:
    title: str  # "Leave Rust learners?"
    consequence: str  # what will happen
    audience: str  # who will see it
    yes: str  # "Yes, leave the circle"
    back_url: str  # where "No, go back" leads


def confirmed(form) -> bool:
    return form.get(CONFIRM_FIELD) == "yes"


async def ask(question: Question, form):
    """The confirmation page, carrying the form's other fields (not its CSRF
    token: the page has its own) to the same address."""
    kept = [(name, value) for name, value in form.items(multi=True) if name not in ("csrf_token", CONFIRM_FIELD)]
    return await render_template("confirm.html", question=question, action=request.path, kept=kept)
