"""English wording shared by the command-line tools (the CLI speaks English only)."""

from __future__ import annotations


def plural(count: int, one: str, many: str | None = None) -> str:
    """`1 member`, `2 members`: a count with its noun, singular only for exactly one."""
    return f"{count} {one if count == 1 else (many or one + 's')}"
