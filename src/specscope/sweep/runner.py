"""Run a sweep plan: launch servers, send the load, persist every finished point at once.

Nothing measured is lost: each point (and its per-request records) is committed to the store
before the next point starts; a point whose server died, or that failed the failure gate, is
stored as ``failed`` with the reason. ``resume=True`` continues the newest run of the same recipe,
skipping points already stored as ``ok``.

Where the points are measured is the executor's business: :class:`LocalExecutor` (the default)
measures here, point after point; :class:`~specscope.sweep.ray_executor.RayExecutor` runs each
server config as a Ray task. Both measure through :class:`PointMeasurer`, and the runner alone
writes the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shlex
import signal
import statistics
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

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
from specscope.client.reach import unreachable
from specscope.client.runner import LoadResult, LoadRun, run_load
from specscope.demo_model import resolve_model_path
from specscope.engines.acceptance import AcceptanceError, AcceptanceReader
from specscope.engines.base import (
    ServerHandle,
    ServerSettings,
    SpecSettings,
    describe_spec,
    spec_note,
)
from specscope.engines.endpoint import Endpoint
from specscope.engines.errors import EngineDiedError, EngineStartError
from specscope.engines.registry import get_recipe, request_defaults, server_tokenizer
from specscope.engines.server import ManagedServer, pick_free_port
from specscope.errors import UserError
from specscope.schema import Point, PointConfig, Provenance, RequestRecord
from specscope.store.db import PointFilter, Store
from specscope.sweep.lossless import LosslessCheck, comparable_outputs, compare_outputs
from specscope.sweep.plan import Plan, PlannedPoint, ServerConfig
from specscope.sweep.recipe import Recipe
from specscope.sweep.stale import remove_pid_file, stop_stale_servers, write_pid_file
from specscope.workload.build import build, median_output_tokens, workload_source
from specscope.workload.prompt import Prompt
from specscope.workload.tokenizer import Tokenizer


class PointDone(BaseModel):
    """What the progress display hears after each point."""

    model_config = ConfigDict(frozen=True)

    key: str
    status: str
    output_tok_s: float | None
    interactivity: float | None
    acceptance_length: float | None
    error: str | None = None


class SweepOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    run_id: str
    run_dir: str
    planned: int
    measured: int
    skipped: int
    failed: int
    point_ids: list[str]


class SweepHooks:
    """Callbacks for progress displays; all optional. ``on_server`` gets one-line notes: server
    starts and stops, and a point's host-load note (a disturbed window, a re-measure)."""

    def __init__(
        self,
        on_point_start: Callable[[PlannedPoint], None] | None = None,
        on_point_done: Callable[[PointDone], None] | None = None,
        on_tokens: Callable[[int], None] | None = None,
        on_server: Callable[[str], None] | None = None,
        on_point_skipped: Callable[[PlannedPoint], None] | None = None,
    ) -> None:
        self.on_point_start = on_point_start or (lambda _p: None)
        self.on_point_skipped = on_point_skipped or (lambda _p: None)
        self.on_point_done = on_point_done or (lambda _d: None)
        self.on_tokens = on_tokens or (lambda _n: None)
        self.on_server = on_server or (lambda _s: None)


def _with_draft_path(spec: SpecSettings) -> SpecSettings:
    """``spec`` with a ``demo:<name>`` draft model replaced by its assembled GGUF's path (the
    stored spec config keeps the name)."""
    if spec.draft_model is None:
        return spec
    return spec.model_copy(update={"draft_model": resolve_model_path(spec.draft_model)})


def _new_run_id(recipe: Recipe, taken: set[str]) -> str:
    """``<recipe name>-<UTC second>-<8 random hex digits>``, with ``-2``, ``-3``... when that id
    is already stored. Point ids derive from the run id, so two runs must never share one: not
    two in one second here, nor two machines that start the same recipe in the same second and
    whose stores are merged later (the random part; ``secrets``, not a clock or host name that
    cloned machines may share)."""
    import secrets

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = f"{recipe.name}-{stamp}-{secrets.token_hex(4)}"
    run_id, n = base, 1
    while run_id in taken:
        n += 1
        run_id = f"{base}-{n}"
    return run_id


def _resumable_run(store: Store, plan: Plan) -> str | None:
    runs = [
        r
        for r in store.runs()
        if r.kind == "sweep" and r.notes.get("recipe_hash") == plan.recipe_hash
    ]
    return runs[-1].run_id if runs else None


class _Servers:
    """The one server the sweep talks to; relaunched only when the next point needs other flags."""

    def __init__(self, recipe: Recipe, run_dir: Path, hooks: SweepHooks) -> None:
        self.recipe = recipe
        self.run_dir = run_dir
        self.hooks = hooks
        self.handle: ServerHandle | None = None
        self.config: ServerConfig | None = None
        self._failed_starts: dict[str, str] = {}
        """Configs whose server did not start in this run: not tried again (each try can take
        the whole health timeout); ``--resume`` tries them again."""
        self._tokenizer: Tokenizer | None = None
        self._windows_on_handle = 0
        """Measured windows begun on the current handle: only the first on a server specscope
        just launched reads a fresh server's running acceptance averages (SGLang fallback)."""
        engine = recipe.engine
        if engine.launches:
            self.engine_name = get_recipe(engine.kind).name
            self._model_path = resolve_model_path(engine.model)
        else:
            self.engine_name = Endpoint(engine.url or "", engine.endpoint_engine).engine
            self._model_path = ""

    def server_settings(self) -> ServerSettings:
        engine = self.recipe.engine
        parallel = engine.parallel or max(self.recipe.load.concurrency)
        return ServerSettings(
            model=self._model_path,
            tp=engine.tp,
            context_tokens=engine.context_tokens,
            parallel=parallel,
            threads=engine.threads,
            binary=engine.binary,
            extra_args=engine.args,
            env=engine.env,
            window_iterations=self.recipe.window_iterations(),
            per_request_spec_metrics=engine.per_request_spec_metrics,
        )

    def spec_config_text(self, config: ServerConfig) -> str:
        if not self.recipe.engine.launches:
            url = self.recipe.engine.url
            return f"endpoint {url}: {config.settings.label} as declared by the user"
        recipe = get_recipe(self.recipe.engine.kind)
        settings = self.server_settings().model_copy(update={"port": 1})
        return describe_spec(recipe, config.settings, settings)

    def launch_command(self, config: ServerConfig, port: int | None = None) -> str:
        """The command line a launch would run, ready to paste: a real port (``port``, else a
        free one picked now; a real launch picks its own) and the recipe's config files written
        by the command itself (``printf ... > FILE &&``) in the current folder."""
        if not self.recipe.engine.launches:
            return f"(endpoint {self.recipe.engine.url}: nothing is launched)"
        recipe = get_recipe(self.recipe.engine.kind)
        settings = self.server_settings().model_copy(
            update={"port": port or pick_free_port(), "config_dir": None}
        )
        env = recipe.env(config.settings, settings)
        prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(env.items()))
        try:
            spec = _with_draft_path(config.settings)
            command = shlex.join(recipe.command(spec, settings))
            files = recipe.files(spec, settings)
        except UserError as exc:
            self.spec_config_text(config)  # a recipe mistake is raised as it is
            # e.g. the engine is not installed where the plan is printed
            return f"(cannot build the command on this machine: {exc})"
        writes = [
            "printf '%s\\n' "
            + " ".join(shlex.quote(line) for line in text.rstrip("\n").split("\n"))
            + f" > {shlex.quote(name)} &&"
            for name, text in sorted(files.items())
        ]
        note = spec_note(recipe, config.settings)
        comment = f"  # {note}" if note else ""
        return " ".join(part for part in [*writes, prefix, command] if part) + comment

    def ensure(self, config: ServerConfig) -> ServerHandle:
        if self.handle is not None and self.config == config and self.handle.is_alive():
            return self.handle
        self.stop()
        if config.label in self._failed_starts:
            raise UserError(
                f"{self._failed_starts[config.label]} (not tried again in this run; "
                "--resume retries)"
            )
        engine = self.recipe.engine
        handle: ServerHandle
        if not engine.launches:
            handle = Endpoint(
                engine.url or "", engine.endpoint_engine, health_timeout_s=engine.health_timeout_s
            )
        else:
            handle = ManagedServer(
                get_recipe(engine.kind),
                _with_draft_path(config.settings),
                self.server_settings(),
                self.run_dir,
                health_timeout_s=engine.health_timeout_s,
            )
        if engine.launches:
            self.hooks.on_server(f"starting {self.engine_name} ({config.label})")
        else:  # nothing is started: the user runs this server
            self.hooks.on_server(
                f"using endpoint {handle.base_url} ({self.engine_name}, {config.label})"
            )
        try:
            if isinstance(handle, ManagedServer):
                _start_recording_pid(handle, self.run_dir)
            else:
                _refuse_fast(handle.base_url)
                handle.start()
        except UserError as exc:
            self._failed_starts[config.label] = str(exc)
            raise
        self.handle, self.config, self._tokenizer = handle, config, None
        self._windows_on_handle = 0
        return handle

    def begin_window(self, handle: ServerHandle) -> bool:
        """Count a measured window on ``handle``; True for the first on a server specscope just
        launched (only that one may read a fresh server's running acceptance averages)."""
        fresh = isinstance(handle, ManagedServer) and self._windows_on_handle == 0
        self._windows_on_handle += 1
        return fresh

    def tokenizer(self) -> Tokenizer | None:
        if self.handle is None:
            return None
        if self._tokenizer is None:
            try:
                self._tokenizer = server_tokenizer(self.engine_name, self.handle.base_url)
            except UserError:
                return None
        return self._tokenizer

    def stop(self) -> None:
        if self.handle is not None:
            self.handle.stop()
            remove_pid_file(self.run_dir)
        self.handle, self.config, self._tokenizer = None, None, None


def _refuse_fast(url: str) -> None:
    """Fail at once when nothing listens at the user's endpoint: a refused connection is final
    there (specscope cannot start that server), unlike a server it launched, which may still be
    loading and whose health wait keeps polling while its process lives."""
    problem = unreachable(url)
    if problem is not None:
        raise EngineStartError(
            f"no healthy server at {url}: {problem}; start the server there or fix the endpoint URL"
        )


def _start_recording_pid(server: ManagedServer, run_dir: Path) -> None:
    """Start ``server``; its pid goes to the run folder as soon as it exists (the health wait
    can take minutes, and a sweep killed meanwhile must not leave the server running)."""
    started = threading.Event()

    def record() -> None:
        while not started.is_set():
            pid = server.pid
            if pid is not None:
                write_pid_file(run_dir, pid)
                return
            started.wait(0.02)

    watcher = threading.Thread(target=record, name="server-pid", daemon=True)
    watcher.start()
    try:
        server.start()
    except BaseException:
        started.set()
        watcher.join()
        remove_pid_file(run_dir)
        raise
    started.set()
    watcher.join()
    if server.pid is not None:
        write_pid_file(run_dir, server.pid)


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


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _sigterm_interrupts() -> signal.Handlers | Callable[[int, FrameType | None], Any] | int | None:
    """Make SIGTERM stop the sweep like Ctrl-C (the server is stopped, finished points stay);
    the default action would end the process at once and leave the server running. Returns the
    handler to restore, or None when not on the main thread (signals cannot be set there)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _interrupt)
    return previous if previous is not None else signal.SIG_DFL


class MeasuredPoint(BaseModel):
    """One finished point with its per-request records (warm-ups included), not yet stored."""

    model_config = ConfigDict(frozen=True)

    point: Point
    records: list[RequestRecord]

    @property
    def key(self) -> str:
        return str(self.point.provenance.extra.get("sweep_key"))


def point_done(point: Point, n_gpus: int) -> PointDone:
    """What the progress display hears about a stored point."""
    key = str(point.provenance.extra.get("sweep_key"))
    if point.n_requests is None:  # failed before anything was measured (start, crash)
        return PointDone(
            key=key,
            status=point.status,
            output_tok_s=None,
            interactivity=None,
            acceptance_length=None,
            error=point.error,
        )
    return PointDone(
        key=key,
        status=point.status,
        output_tok_s=(point.output_throughput_per_gpu or 0.0) * n_gpus,
        interactivity=point.interactivity,
        acceptance_length=point.acceptance.acceptance_length if point.acceptance else None,
        error=point.error,
    )


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

    def __init__(self, recipe: Recipe, run_id: str, servers: _Servers, hooks: SweepHooks) -> None:
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
            draft_depth=0 if server.settings.is_off else server.settings.g,
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


class SweepExecutor(Protocol):
    """Where the points of a sweep are measured. The runner (on this machine) does the
    bookkeeping and is the only writer of the store; an executor measures the points it is
    given and hands each finished one to :meth:`SweepRunner.record` as soon as it is over."""

    def execute(self, runner: SweepRunner, points: Iterable[PlannedPoint]) -> None: ...


class LocalExecutor:
    """Measure on this machine, one point after the other, in plan order (the default)."""

    def execute(self, runner: SweepRunner, points: Iterable[PlannedPoint]) -> None:
        with contextlib.closing(measure_points(runner.measurer, points)) as stream:
            for item in stream:
                if isinstance(item, MeasuredPoint):
                    runner.record(item)
                else:
                    runner.hooks.on_point_start(item)


class SweepRunner:
    def __init__(
        self,
        plan: Plan,
        store: Store,
        runs_dir: Path,
        *,
        resume: bool = False,
        hooks: SweepHooks | None = None,
        executor: SweepExecutor | None = None,
    ) -> None:
        self.plan = plan
        self.recipe = plan.recipe
        self.store = store
        self.hooks = hooks or SweepHooks()
        self.executor: SweepExecutor = executor or LocalExecutor()
        run_id = _resumable_run(store, plan) if resume else None
        if resume and run_id is None:
            raise UserError(
                f"--resume: no earlier run of recipe '{self.recipe.name}' (same settings) in the "
                "store; run it once without --resume"
            )
        self.run_id = run_id or _new_run_id(self.recipe, {r.run_id for r in store.runs()})
        self.run_dir = runs_dir / self.run_id
        self.servers = _Servers(self.recipe, self.run_dir, self.hooks)
        self.measurer = PointMeasurer(self.recipe, self.run_id, self.servers, self.hooks)
        self._ids: dict[str, str] = {}
        """Point id of each planned point stored by this run (or found stored), by sweep key."""
        self._measured = self._failed = 0
        self.extra_notes: dict[str, Any] = {}
        """More notes for the run's row (the adaptive sweep marks its runs)."""

    # -- bookkeeping ----------------------------------------------------------------------
    def _stored(self) -> dict[str, Point]:
        """Stored points of this run by sweep key; an ok point wins over a failed one (a point
        that failed to start has another id than its later measurement: isl was unknown)."""
        stored: dict[str, Point] = {}
        for p in self.store.points(PointFilter(run_id=self.run_id, status=None)):
            key = str(p.provenance.extra.get("sweep_key"))
            if key not in stored or (p.status == "ok" and stored[key].status != "ok"):
                stored[key] = p
        return stored

    def _complete(self, stored: dict[str, Point]) -> dict[str, Point]:
        """Stored points less the ok ones whose request records are not all stored (written by
        an older specscope that committed the point before its records): those are measured
        again, and their new rows replace them."""
        ok = [p for p in stored.values() if p.status == "ok" and p.n_requests]
        counts = self.store.timed_request_counts(p.point_id for p in ok)
        short = {p.point_id for p in ok if counts[p.point_id] < (p.n_requests or 0)}
        for key, point in list(stored.items()):
            if point.point_id in short:
                self.hooks.on_server(
                    f"point {key} is stored without all its request records "
                    f"({counts[point.point_id]} of {point.n_requests}); measuring it again"
                )
                del stored[key]
        return stored

    def _register_run(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "recipe.json").write_text(
            json.dumps(self.recipe.model_dump(mode="json"), indent=2)
        )
        self.store.add_run(
            self.run_id,
            kind="sweep",
            command=f"specscope sweep ({self.recipe.name})",
            engine=self.recipe.engine.kind,
            notes={
                "recipe_hash": self.plan.recipe_hash,
                "recipe": self.recipe.name,
                **self.extra_notes,
            },
        )

    # -- the loop -------------------------------------------------------------------------
    def run(self, points: Iterable[PlannedPoint] | None = None) -> SweepOutcome:
        """Measure the plan's points, or ``points`` when given (the adaptive sweep passes a
        generator that chooses each next point from the store after the previous one is
        recorded: the local executor asks for a point only once the last one is stored)."""
        for config in {p.server.label: p.server for p in self.plan.points}.values():
            # a spec config the engine cannot run is a recipe mistake: say so before measuring
            self.servers.spec_config_text(config)
        for pid in stop_stale_servers(self.run_dir.parent):
            self.hooks.on_server(f"stopped server pid {pid}, left running by a killed sweep")
        self._register_run()
        stored = self._complete(self._stored())
        for key, point in stored.items():
            if point.config.is_off and point.status == "ok":
                self.measurer.remember_off(key, self.store.requests(point.point_id))
        self._ids, self._measured, self._failed = {}, 0, 0
        skipped: list[str] = []

        def todo() -> Iterator[PlannedPoint]:
            """The points not stored ok yet; the others are announced as skipped on the way."""
            for planned in self.plan.points if points is None else points:
                done = stored.get(planned.key)
                if done is not None and done.status == "ok":
                    self.hooks.on_point_skipped(planned)
                    skipped.append(planned.key)
                    self._ids[planned.key] = done.point_id
                    continue
                yield planned

        previous_sigterm = _sigterm_interrupts()
        try:
            self.executor.execute(self, todo())
        finally:
            self.servers.stop()
            if previous_sigterm is not None:
                signal.signal(signal.SIGTERM, previous_sigterm)
        return SweepOutcome(
            run_id=self.run_id,
            run_dir=str(self.run_dir),
            planned=len(self.plan.points) if points is None else len(self._ids),
            measured=self._measured,
            skipped=len(skipped),
            failed=self._failed,
            point_ids=(
                [self._ids[p.key] for p in self.plan.points if p.key in self._ids]
                if points is None
                else list(self._ids.values())
            ),
        )

    def record(self, measured: MeasuredPoint) -> None:
        """Store a finished point (from any executor) at once, then tell the hooks."""
        point = measured.point
        self._persist(point, measured.records)
        if point.config.is_off and point.status == "ok":
            self.measurer.remember_off(measured.key, measured.records)
        self._ids[measured.key] = point.point_id
        self._measured += 1
        self._failed += point.status != "ok"
        self.hooks.on_point_done(point_done(point, self.recipe.identity.n_gpus))

    def _persist(self, point: Point, records: list[RequestRecord]) -> None:
        """Commit the point and its records; drop an earlier row of the same sweep key that this
        measurement supersedes (a failed start was stored without its input length, so under
        another point id)."""
        key = point.provenance.extra.get("sweep_key")
        superseded = [
            p.point_id
            for p in self.store.points(PointFilter(run_id=self.run_id, status=None))
            if p.provenance.extra.get("sweep_key") == key and p.point_id != point.point_id
        ]
        self.store.record_point(point, records, superseded)


def launch_commands(plan: Plan, runs_dir: Path) -> list[tuple[str, str]]:
    """(server config label, command line) for every distinct launch of the plan (for --dry-run)."""
    servers = _Servers(plan.recipe, runs_dir / "<run>", SweepHooks())
    seen: dict[str, str] = {}
    for point in plan.points:
        if point.server.label not in seen:
            seen[point.server.label] = servers.launch_command(point.server)
    return list(seen.items())


def run_sweep(
    plan: Plan,
    db: Path,
    runs_dir: Path,
    *,
    resume: bool = False,
    hooks: SweepHooks | None = None,
    executor: SweepExecutor | None = None,
) -> SweepOutcome:
    """Measure every point of ``plan`` into the store at ``db`` (on this machine by default;
    ``executor`` may measure elsewhere, e.g. :class:`~specscope.sweep.ray_executor.RayExecutor`)."""
    with Store.open(db) as store:
        runner = SweepRunner(plan, store, runs_dir, resume=resume, hooks=hooks, executor=executor)
        return runner.run()
