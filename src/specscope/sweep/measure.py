"""Measure planned points: the server, the prompts, the load, the point's metrics and the
lossless check. Every executor measures through :class:`PointMeasurer`; it stores nothing."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
from collections.abc import Callable, Generator, Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from specscope.client.aggregate import PointMetrics, aggregate
from specscope.client.hostload import (
    FirstAttempt,
    HostLoad,
    HostMeter,
    HostRecord,
    HostSampler,
    host_note,
)
from specscope.client.load import ClosedLoop, LoadPattern
from specscope.client.power import PowerSampler
from specscope.client.protocols import BenchPrompt
from specscope.client.runner import LoadResult, LoadRun, run_load
from specscope.engines.acceptance import AcceptanceError, AcceptanceReader
from specscope.engines.base import ServerHandle
from specscope.engines.errors import EngineDiedError
from specscope.engines.registry import request_defaults
from specscope.engines.server import ManagedServer
from specscope.errors import UserError
from specscope.schema import Point, PointConfig, Provenance, RequestRecord
from specscope.sweep.hooks import SweepHooks
from specscope.sweep.lossless import LosslessCheck, comparable_outputs, compare_outputs
from specscope.sweep.plan import PlannedPoint
from specscope.sweep.recipe import Recipe
from specscope.sweep.servers import Servers
from specscope.workload.build import build, median_output_tokens, workload_source
from specscope.workload.prompt import Prompt


class MeasuredPoint(BaseModel):
    """One finished point with its per-request records (warm-ups included), not yet stored."""

    model_config = ConfigDict(frozen=True)

    point: Point
    records: list[RequestRecord]

    @property
    def key(self) -> str:
        return str(self.point.provenance.extra.get("sweep_key"))


OffSlot = tuple[str, int, int]
"""(workload, concurrency, repeat): the spec-off point a spec point's outputs are compared with."""


def off_slot(key: str) -> OffSlot:
    """The lossless-check slot of a sweep key (``label|workload|c<n>|r<n>``)."""
    workload, conc, repeat = key.split("|")[1:4]
    return workload, int(conc.removeprefix("c")), int(repeat.removeprefix("r"))


class PointMeasurer:
    """Measures planned points against the server it launches; stores nothing.

    Every executor measures through this class (the local runner in-process, the Ray executor
    inside each cell task): it owns the server (relaunched only when the next point needs other
    flags), builds the prompts (identical for every server config: they depend only on the
    workload and the seed), sends the load, aggregates the point and compares spec-on outputs with
    the spec-off outputs it was given (:meth:`remember_off`).
    """

    def __init__(self, recipe: Recipe, run_id: str, servers: Servers, hooks: SweepHooks) -> None:
        self.recipe = recipe
        self.run_id = run_id
        self.servers = servers
        self.hooks = hooks
        self.outputs: dict[OffSlot, list[str | None]] = {}
        """Off outputs by (workload, concurrency, repeat), for the lossless check."""
        self._finished: list[RequestRecord] = []
        """Timed requests of the running point that are over, kept if its server dies."""
        self.host_meter: Callable[[str | None], HostMeter] = HostSampler
        """Makes the meter of the rest of the host's load over each timed window, given the URL
        of a server that specscope did not launch (None when it did)."""

    def remember_off(self, key: str, records: list[RequestRecord]) -> None:
        """Keep the outputs of the spec-off point ``key`` for the spec points of its slot."""
        self.outputs[off_slot(key)] = comparable_outputs(records)

    def config(self, planned: PlannedPoint, isl: int, osl: int | None = None) -> PointConfig:
        """What the point measured; ``osl`` defaults to the recipe's (a point that never ran)."""
        identity, server = self.recipe.identity, planned.server
        load = self.recipe.load
        return PointConfig(
            hardware=identity.hardware,
            model=identity.model,
            precision=identity.precision,
            engine=self.servers.engine_name,
            spec_method=server.stored_method,
            draft_depth=0 if server.settings.is_off else server.settings.draft_depth,
            spec_config=self.servers.spec_config_text(server),
            n_gpus=identity.n_gpus,
            n_decode_gpus=identity.n_decode_gpus,
            tp=identity.tp,
            isl=isl,
            osl=planned.workload.osl if osl is None else osl,
            concurrency=planned.concurrency,
            request_rate=load.request_rate,
            workload=planned.workload.name,
        )

    async def measure(self, planned: PlannedPoint) -> MeasuredPoint:
        """Measure one point (launching its server if needed); a failure is a failed point.

        With ``load.remeasure_disturbed``, a point whose window other processes disturbed is
        measured once more on the same server; the second measurement is stored (flagged if it
        was disturbed too) and ``extra["host"]["first_attempt"]`` keeps the first one's host
        load and headline results. If the server dies during the second, the first is kept.
        """
        load = self.recipe.load
        try:
            handle = self.servers.ensure(planned.server)
        except UserError as exc:
            return self.failed(planned, 0, f"server did not start: {exc}", [])
        timed, warmup = self._prompts(planned)
        isl = _input_length(timed, planned)
        api = load.api
        try:
            result, metrics, power, host = await self._window(handle, planned, timed, warmup)
        except EngineDiedError as exc:
            self.servers.stop()
            reason = f"server died mid-point: {exc}"
            return self.failed(planned, isl, reason, list(self._finished))
        first: FirstAttempt | None = None
        remeasure_error: str | None = None
        if host is not None and host.disturbed and load.remeasure_disturbed:
            self.hooks.on_server(
                f"{planned.key}: window disturbed ({host.describe()}); measuring it once more"
            )
            try:
                again = await self._window(handle, planned, timed, warmup)
            except EngineDiedError as exc:
                self.servers.stop()
                remeasure_error = f"server died mid-point: {exc}"
            else:
                first = FirstAttempt(
                    host=host,
                    status=metrics.status,
                    throughput_per_gpu=metrics.throughput_per_gpu,
                    output_throughput_per_gpu=metrics.output_throughput_per_gpu,
                    interactivity=metrics.interactivity,
                    duration_s=metrics.duration_s,
                )
                result, metrics, power, host = again
        extra: dict[str, Any] = {
            "sweep_key": planned.key,
            "recipe": self.recipe.name,
            "api": api,
            "workload_source": workload_source(planned.workload.workload(self.recipe.seed)),
        }
        lossless = self._lossless(planned, result)
        if lossless is not None:
            extra["lossless"] = lossless.model_dump(mode="json")
        if metrics.client is not None:
            extra["client"] = metrics.client
        if host is not None:
            record = HostRecord(
                **host.model_dump(), first_attempt=first, remeasure_error=remeasure_error
            )
            extra["host"] = record.model_dump(mode="json", exclude_none=True)
        point = Point(
            run_id=self.run_id,
            config=self.config(planned, isl, _output_length(timed, planned)),
            repeat=planned.repeat,
            provenance=Provenance(
                source="specscope",
                date=datetime.now(UTC).isoformat(timespec="seconds"),
                power_source="measured" if power is not None else "preset",
                extra=extra,
            ),
            **metrics.model_dump(),
        )
        note = host_note(point)
        if note is not None:
            self.hooks.on_server(f"{planned.key}: {note}")
        return MeasuredPoint(point=point, records=list(result.records))

    async def _window(
        self,
        handle: ServerHandle,
        planned: PlannedPoint,
        timed: list[Prompt],
        warmup: list[Prompt],
    ) -> tuple[LoadResult, PointMetrics, float | None, HostLoad | None]:
        """One measurement of the point: the load, its metrics, power and the host's load."""
        result, acceptance, power, host = await self._load(handle, planned, timed, warmup)
        metrics = aggregate(
            result,
            n_gpus=self.recipe.identity.n_gpus,
            n_decode_gpus=self.recipe.identity.n_decode_gpus,
            max_failed_fraction=self.recipe.load.max_failed_fraction,
            power_w_per_gpu=power,
        )
        if acceptance is not None:
            metrics = metrics.model_copy(update={"acceptance": acceptance})
        return result, metrics, power, host

    def failed(
        self, planned: PlannedPoint, isl: int, reason: str, records: list[RequestRecord]
    ) -> MeasuredPoint:
        """A point that could not be measured, with the requests that did finish."""
        point = Point(
            run_id=self.run_id,
            config=self.config(planned, isl),
            repeat=planned.repeat,
            status="failed",
            error=reason,
            throughput_per_gpu=0.0,
            interactivity=0.0,
            provenance=Provenance(
                source="specscope",
                date=datetime.now(UTC).isoformat(timespec="seconds"),
                extra={"sweep_key": planned.key, "recipe": self.recipe.name},
            ),
        )
        return MeasuredPoint(point=point, records=records)

    def _prompts(self, planned: PlannedPoint) -> tuple[list[Prompt], list[Prompt]]:
        """Timed and warm-up prompts, identical for every server config of the sweep.

        The server's tokenizer fixes synthetic lengths and counts the input tokens of other
        prompts; when it cannot be reached, only synthetic workloads need it, so the others go on
        without token counts (isl then falls back to the recipe's value).
        """
        load = self.recipe.load
        workload = planned.workload.workload(self.recipe.seed)
        tokenizer = self.servers.tokenizer()
        try:
            return build(workload, tokenizer, n_timed=load.requests_per_point, n_warmup=load.warmup)
        except UserError:
            if tokenizer is None or workload.needs_tokenizer:
                raise
            return build(workload, None, n_timed=load.requests_per_point, n_warmup=load.warmup)

    async def _load(
        self,
        handle: ServerHandle,
        planned: PlannedPoint,
        timed: list[Prompt],
        warmup: list[Prompt],
    ) -> tuple[LoadResult, Any, float | None, HostLoad | None]:
        load, engine = self.recipe.load, self.recipe.engine
        api = load.api
        url = handle.base_url
        extra_body = request_defaults(self.servers.engine_name) or None

        def load_run(prompts: list[Prompt], pattern: LoadPattern, workers: int | None) -> LoadRun:
            return LoadRun(
                base_url=url,
                api=api,
                model=engine.model,
                prompts=[_bench_prompt(p, api) for p in prompts],
                load=pattern,
                temperature=load.temperature,
                timeout_s=load.timeout_s,
                api_key_env=engine.api_key_env,
                extra_body=extra_body,
                keep_text=True,
                workers=workers,
            )

        self._finished = []

        def count_tokens(record: RequestRecord) -> None:
            if not record.warmup:
                self._finished.append(record)
            if not record.warmup and record.ok:
                self.hooks.on_tokens(record.output_tokens)

        pattern = load.pattern(planned.concurrency, len(timed), self.recipe.seed)

        # a server specscope did not launch is not among its child processes: the meter looks
        # for it by its port
        meter = self.host_meter(None if isinstance(handle, ManagedServer) else url)

        async def body() -> tuple[LoadResult, Any, float | None, HostLoad | None]:
            warm_records: list[RequestRecord] = []
            if warmup:
                warm_load = ClosedLoop(
                    concurrency=min(planned.concurrency, len(warmup)), num_requests=len(warmup)
                )
                warm = await run_load(load_run(warmup, warm_load, 1))
                warm_records = [r.model_copy(update={"warmup": True}) for r in warm.records]
            fresh = self.servers.begin_window(handle)
            reader = AcceptanceReader(
                handle.acceptance_source, url, handle.metrics_path, fresh_server=fresh
            )
            acceptance_ok = True
            try:
                await reader.begin()
            except AcceptanceError:
                acceptance_ok = False
            with PowerSampler() as sampler:
                meter.start()
                result = await run_load(
                    load_run(timed, pattern, load.client_workers), on_request_done=count_tokens
                )
                host = meter.stop()
                power = sampler.reading(*result.window_perf_s).w_per_gpu
            acceptance = None
            if acceptance_ok:
                with contextlib.suppress(AcceptanceError):
                    acceptance = await reader.end(result.timed_records)
            merged = result.model_copy(update={"records": warm_records + list(result.records)})
            return merged, acceptance, power, host

        work = asyncio.ensure_future(body())
        watchdog = asyncio.ensure_future(handle.watch())
        try:
            finished, _ = await asyncio.wait({work, watchdog}, return_when=asyncio.FIRST_COMPLETED)
            if watchdog in finished:
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await work
                watchdog.result()  # raises EngineDiedError
                raise EngineDiedError("the server stopped answering")
            result = work.result()
            if any(not r.ok for r in result[0].records):
                # requests failed: if the server is gone, that is why (the watchdog polls, so
                # the requests may all have failed before it looked)
                await asyncio.to_thread(handle.check)
            return result
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError, EngineDiedError):
                await watchdog

    def _lossless(self, planned: PlannedPoint, result: LoadResult) -> LosslessCheck | None:
        if planned.server.settings.is_off or self.recipe.load.temperature != 0.0:
            return None
        slot = (planned.workload.name, planned.concurrency, planned.repeat)
        reference = self.outputs.get(slot)
        if reference is None:
            return None
        outputs = comparable_outputs(result.timed_records)
        return compare_outputs(reference, outputs, self.servers.tokenizer())


def measure_points(
    measurer: PointMeasurer, points: Iterable[PlannedPoint]
) -> Generator[PlannedPoint | MeasuredPoint, None, None]:
    """Measure ``points`` in order: yields each planned point just before it is measured, then
    its :class:`MeasuredPoint`. The next point starts only when the consumer asks for it, so a
    consumer that stores each point before asking loses nothing. The server is stopped when the
    iteration ends, fails or is closed early.
    """
    try:
        for planned in points:
            yield planned
            yield asyncio.run(measurer.measure(planned))
    finally:
        measurer.servers.stop()


def _bench_prompt(prompt: Prompt, api: str) -> BenchPrompt:
    if prompt.messages is not None:
        if len(prompt.messages) != 1:
            raise UserError(
                f"prompt {prompt.id!r} has {len(prompt.messages)} chat turns; the bench client "
                "sends one user message per request"
            )
        text: str | list[int] = prompt.messages[0].content
    elif prompt.text is not None:
        text = prompt.text
    else:
        text = list(prompt.token_ids or [])
    if api == "chat" and not isinstance(text, str):
        raise UserError("the chat API needs text prompts; use api = 'completions' for token ids")
    return BenchPrompt(
        prompt=text, output_tokens=prompt.output_tokens, input_tokens=prompt.input_tokens
    )


def _input_length(prompts: list[Prompt], workload: PlannedPoint) -> int:
    """The stored isl: the median input tokens of the timed prompts (the recipe's isl when the
    server could not count them)."""
    counts = [p.input_tokens for p in prompts if p.input_tokens is not None]
    if counts:
        return round(statistics.median(counts))
    return workload.workload.isl or 0


def _output_length(prompts: list[Prompt], workload: PlannedPoint) -> int:
    """The stored osl: the median requested output tokens of the timed prompts (ShareGPT's reply
    lengths, or a prompt file's own lengths), else the recipe's osl."""
    return median_output_tokens(prompts) or workload.workload.osl
