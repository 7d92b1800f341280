"""A server the user already runs: no launch, only health, liveness and metrics."""

from __future__ import annotations

import asyncio
import time
from typing import NoReturn

import httpx

from specscope.engines.base import AcceptanceSource
from specscope.engines.errors import EngineDiedError, EngineStartError
from specscope.engines.registry import engine_key, get_recipe

GENERIC = "generic"


class Endpoint:
    """An already-running OpenAI-compatible server at ``base_url``.

    ``engine`` (a registered engine's key or alias, or ``generic``) picks the health and
    metrics paths and how acceptance is read; each can be overridden.
    """

    def __init__(
        self,
        base_url: str,
        engine: str = GENERIC,
        *,
        health_path: str | None = None,
        metrics_path: str | None = None,
        acceptance_source: AcceptanceSource | None = None,
        health_timeout_s: float = 60.0,
        poll_interval_s: float = 0.5,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        key = GENERIC if engine.strip().lower() == GENERIC else engine_key(engine)
        recipe = None if key == GENERIC else get_recipe(key)
        self._engine = key
        self.health_path = health_path or (recipe.health_path if recipe else "/health")
        self._metrics_path = metrics_path or (recipe.metrics_path if recipe else "/metrics")
        default_source: AcceptanceSource = recipe.acceptance_source if recipe else "prometheus"
        self._acceptance_source: AcceptanceSource = acceptance_source or default_source
        self.health_timeout_s = health_timeout_s
        self.poll_interval_s = poll_interval_s

    @property
    def engine(self) -> str:
        return self._engine

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def metrics_path(self) -> str:
        return self._metrics_path

    @property
    def acceptance_source(self) -> AcceptanceSource:
        return self._acceptance_source

    def _healthy(self, client: httpx.Client) -> bool:
        try:
            return client.get(self._base_url + self.health_path).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self) -> None:
        """Wait until the endpoint answers its health check (nothing is launched)."""
        deadline = time.monotonic() + self.health_timeout_s
        with httpx.Client(timeout=5.0) as client:
            while not self._healthy(client):
                if time.monotonic() >= deadline:
                    raise EngineStartError(
                        f"no healthy server at {self._base_url}{self.health_path} after "
                        f"{self.health_timeout_s:g} s; start it or fix the endpoint URL"
                    )
                time.sleep(self.poll_interval_s)

    def stop(self) -> None:
        """Nothing to stop: the user owns this server."""

    def is_alive(self) -> bool:
        with httpx.Client(timeout=5.0) as client:
            return self._healthy(client)

    def check(self) -> None:
        if not self.is_alive():
            raise EngineDiedError(
                f"the server at {self._base_url} stopped answering "
                f"{self.health_path}; check it is still running"
            )

    async def watch(self, interval_s: float = 5.0) -> NoReturn:
        """Never returns; raises EngineDiedError once the endpoint stops answering."""
        async with httpx.AsyncClient(timeout=5.0) as client:
            while True:
                try:
                    ok = (await client.get(self._base_url + self.health_path)).status_code == 200
                except httpx.HTTPError:
                    ok = False
                if not ok:
                    raise EngineDiedError(
                        f"the server at {self._base_url} stopped answering {self.health_path}"
                    )
                await asyncio.sleep(interval_s)

    def __enter__(self) -> Endpoint:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
