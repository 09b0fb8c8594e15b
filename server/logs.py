"""Logging set-up for the processes `circles` starts."""

from __future__ import annotations

import logging


def configure(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # tortoise logs every query at DEBUG: only show them when DEBUG is asked for.
    logging.getLogger("tortoise").setLevel(level if level == "DEBUG" else "WARNING")
