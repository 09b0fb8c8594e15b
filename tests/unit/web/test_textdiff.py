"""The comparison of a proposed text with the current one: changes marked word
by word, and bounded work for any input (it runs on every view of an open
proposal, for anonymous visitors too)."""

from __future__ import annotations

import time

import pytest

from web.html import textdiff

PROSE = ("Members meet weekly, share their work and give feedback kindly and in good time.\n" * 70)[:5000]


def test_a_normal_edit_is_marked_word_by_word():
    comparison = textdiff.compare("1. Be kind.\n2. Read the chapter before we meet.",
                                  "1. Be kind.\n2. Skim the chapter before we meet.\n3. Listen.")
    assert comparison.marked and comparison.changed
    assert [(s.text, s.change) for s in comparison.before] == [
        ("1. Be kind.\n2. ", "same"), ("Read ", "removed"), ("the chapter before we meet.", "same")]
    assert [(s.text, s.change) for s in comparison.after] == [
        ("1. Be kind.\n2. ", "same"), ("Skim ", "added"), ("the chapter before we meet.\n", "same"),
        ("3. Listen.", "added")]


def test_whitespace_alone_is_not_a_change_and_is_kept_as_written():
    comparison = textdiff.compare("Be  kind.\nRead.", "Be kind. \nRead.")
    assert not comparison.changed
    assert "".join(s.text for s in comparison.before) == "Be  kind.\nRead."
    assert "".join(s.text for s in comparison.after) == "Be kind. \nRead."


@pytest.mark.parametrize("current, proposed", [
    (PROSE[:1500], "x " * 2500),
    (PROSE, "x " * 2500),
    ("a " * 2500, "b " * 2500),
    ("a " * 1990, "b " * 1990),  # just under the cap: still compared
    ("x " * 1990, "x " * 1000 + "y " + "x " * 989),
    ("x\n" * 1990, "x\n" * 1000 + "y\n" * 990),
    (PROSE, PROSE.replace("kindly", "gently")),
])
def test_no_input_makes_the_comparison_slow(current, proposed):
    # A guard against quadratic blow-up (these took from 7 s to 9 minutes),
    # not a benchmark: the bound is generous on a busy machine.
    started = time.perf_counter()
    comparison = textdiff.compare(current, proposed)
    assert time.perf_counter() - started < 1
    assert "".join(s.text for s in comparison.after) == proposed  # nothing lost


def test_texts_too_long_to_compare_are_shown_whole_without_marks():
    comparison = textdiff.compare("a " * 2500, "b " * 2500)
    assert not comparison.marked and not comparison.changed
    assert [s.text for s in comparison.before] == ["a " * 2500]
    assert [s.text for s in comparison.after] == ["b " * 2500]
    assert textdiff.compare("a " * 1990, "b " * 1990).marked
