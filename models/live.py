"""Live updates: a service says "this topic changed" (an account's
notifications, a thread) and open pages hear it through server-sent events.

Topics are short strings: `account:<id>` (notifications of that account) and
`thread:<root post id>` (a reply in that thread). Call `announce` in the
transaction of the change."""

from __future__ import annotations


async def announce(*topics: str) -> None:
    """Tell listeners these topics changed. (Delivery across processes comes
    with the live-updates work; until then this does nothing.)"""
    return None
