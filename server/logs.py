"""Logging set-up for the processes `circles` starts."""

from __future__ import annotations

import logging


def configure(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # tortoise logs every query at DEBUG; keep it quieter unless asked for.
    logging.getLogger("tortoise").setLevel(max(logging.getLevelName(level), logging.INFO))
