"""Fuzzing with a time budget: each target runs batches of Hypothesis examples
(new random ones each batch, shrunk on failure) until CIRCLES_FUZZ_SECONDS
have passed. `make test` gives each target a few seconds; .ci/run gives more."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, settings

BATCH = settings(
    max_examples=200, deadline=None, database=None, derandomize=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def budget() -> float:
    try:
        return max(0.5, float(os.environ.get("CIRCLES_FUZZ_SECONDS", "3")))
    except ValueError:
        return 3.0


@pytest.fixture
def fuzz_for() -> Callable[[Callable[[], None]], int]:
    """Run a @given test (decorated with BATCH) in batches until the budget is
    spent; how many batches ran (at least one)."""

    def run(test: Callable[[], None]) -> int:
        deadline, batches = time.monotonic() + budget(), 0
        while True:
            test()
            batches += 1
            if time.monotonic() >= deadline:
                return batches

    return run
