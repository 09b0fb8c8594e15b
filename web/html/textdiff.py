"""A word-level comparison of two texts, for showing a proposed change beside
what it replaces. Plain segments only: the template escapes them and marks
them up, so no text from a proposal is ever trusted as HTML."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

_TOKENS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class Segment:
    text: str
    change: str  # "same", "removed" or "added"


@dataclass(frozen=True)
class Comparison:
    before: list[Segment]  # the current text, its removed words marked
    after: list[Segment]  # the proposed text, its added words marked

    @property
    def changed(self) -> bool:
        return any(s.change != "same" for s in self.before + self.after)


def compare(current: str, proposed: str) -> Comparison:
    """Both texts as segments, split at words (whitespace kept as it was)."""
    old, new = _TOKENS.findall(current or ""), _TOKENS.findall(proposed or "")
    before: list[Segment] = []
    after: list[Segment] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            _append(before, "".join(old[i1:i2]), "same")
            _append(after, "".join(new[j1:j2]), "same")
            continue
        _append(before, "".join(old[i1:i2]), "removed")
        _append(after, "".join(new[j1:j2]), "added")
    return Comparison(before, after)


def _append(segments: list[Segment], text: str, change: str) -> None:
    if text:
        segments.append(Segment(text, change))
