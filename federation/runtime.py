"""What the federation code needs at run time, made once per process by
server/app.py (or server/worker.py) and passed along explicitly."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from federation import fetch
from federation.addresses import AddressPolicy
from models.instance import Instance


@dataclass
class Federation:
    instance: Instance
    client: httpx.AsyncClient
    allow_private_addresses: AddressPolicy

    @classmethod
    def start(cls, instance: Instance, *, allow_private_addresses: AddressPolicy | bool, version: str) -> Federation:
        policy = AddressPolicy.of(allow_private_addresses)
        client = fetch.make_client(
            allow_private_addresses=policy,
            user_agent=f"Circles/{version} (+{instance.base_url})",
        )
        return cls(instance=instance, client=client, allow_private_addresses=policy)

    async def close(self) -> None:
        await self.client.aclose()
