"""A word-level comparison of two texts, for showing a proposed change beside
what it replaces. Plain segments only: the template escapes them and marks
them up, so no text from a proposal is ever trusted as HTML.

It runs on every view of an open proposal, so its cost must stay small for
any input: lines are compared first and words only inside changed lines;
a word carries its trailing whitespace (so no token is common to every
text), and beyond MAX_TOKENS the texts are shown whole, without marks."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

# Past this many words in both texts together, marking is skipped. The
# longest texts a local proposal accepts (rules of 5,000 characters) stay
# under it for ordinary prose; only word salad or remote texts go past.
MAX_TOKENS = 4000

_TOKENS = re.compile(r"\s+|\S+\s*")  # pure whitespace only at the start


@dataclass(frozen=True)
class Segment:
    text: str
    change: str  # "same", "removed" or "added"


@dataclass(frozen=True)
class Comparison:
    before: list[Segment]  # the current text, its removed words marked
    after: list[Segment]  # the proposed text, its added words marked
    marked: bool = True  # False: too long to compare, both shown whole

    @property
    def changed(self) -> bool:
        return any(s.change != "same" for s in self.before + self.after)


def compare(current: str, proposed: str) -> Comparison:
    """Both texts as segments, changed words marked (whitespace kept as it was)."""
    current, proposed = current or "", proposed or ""
    if len(_TOKENS.findall(current)) + len(_TOKENS.findall(proposed)) > MAX_TOKENS:
        return Comparison(_whole(current), _whole(proposed), marked=False)
    before: list[Segment] = []
    after: list[Segment] = []
    old, new = current.splitlines(keepends=True), proposed.splitlines(keepends=True)
    for op, i1, i2, j1, j2 in _opcodes(old, new):
        old_part, new_part = "".join(old[i1:i2]), "".join(new[j1:j2])
        if op == "equal":
            _append(before, old_part, "same")
            _append(after, new_part, "same")
        elif op == "replace":
            _compare_words(old_part, new_part, before, after)
        else:
            _append(before, old_part, "removed")
            _append(after, new_part, "added")
    return Comparison(before, after)


def _compare_words(current: str, proposed: str, before: list[Segment], after: list[Segment]) -> None:
    """Changed lines, compared word by word."""
    old, new = _TOKENS.findall(current), _TOKENS.findall(proposed)
    for op, i1, i2, j1, j2 in _opcodes(old, new):
        same = op == "equal"
        _append(before, "".join(old[i1:i2]), "same" if same else "removed")
        _append(after, "".join(new[j1:j2]), "same" if same else "added")


def _opcodes(old: list[str], new: list[str]) -> list[tuple]:
    """Compared ignoring whitespace; difflib's autojunk leaves out items
    frequent enough to make the comparison slow (matches still extend
    over them), so a repeated word cannot make it quadratic."""
    keys = lambda items: [" ".join(item.split()) for item in items]  # noqa: E731
    return difflib.SequenceMatcher(a=keys(old), b=keys(new)).get_opcodes()


def _whole(text: str) -> list[Segment]:
    return [Segment(text, "same")] if text else []


def _append(segments: list[Segment], text: str, change: str) -> None:
    if not text:
        return
    if segments and segments[-1].change == change:  # keep neighbours merged
        segments[-1] = Segment(segments[-1].text + text, change)
    else:
        segments.append(Segment(text, change))
