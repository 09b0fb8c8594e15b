"""What the federation code needs at run time, made once per process by
server/app.py (or server/worker.py) and passed along explicitly."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import httpx

from federation import fetch
from federation.addresses import AddressPolicy
from models.instance import Instance
from models.services.meeting_reminders import DEFAULT_LEADS

# How long a worker holds the rows it claimed (deliveries, received
# activities): another worker takes over a dead worker's rows after this.
DEFAULT_LEASE = dt.timedelta(minutes=5)


@dataclass
class Federation:
    instance: Instance
    client: httpx.AsyncClient
    allow_private_addresses: AddressPolicy
    lease: dt.timedelta = DEFAULT_LEASE
    # Minutes before a meeting's start its attendees are reminded (the worker's
    # reminder stage), longest first; CIRCLES_MEETING_REMINDERS.
    meeting_reminders: tuple[int, ...] = DEFAULT_LEADS

    @classmethod
    def start(cls, instance: Instance, *, allow_private_addresses: AddressPolicy | bool, version: str,
              lease: dt.timedelta = DEFAULT_LEASE, meeting_reminders: tuple[int, ...] = DEFAULT_LEADS) -> Federation:
        policy = AddressPolicy.of(allow_private_addresses)
        client = fetch.make_client(
            allow_private_addresses=policy,
            user_agent=f"Circles/{version} (+{instance.base_url})",
        )
        return cls(instance=instance, client=client, allow_private_addresses=policy, lease=lease,
                   meeting_reminders=meeting_reminders)

    async def close(self) -> None:
        await self.client.aclose()
