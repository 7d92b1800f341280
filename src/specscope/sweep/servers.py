"""The one server a sweep talks to: launched (or an endpoint checked) for each server config,
relaunched only when the next point needs other flags; its pid is recorded in the run folder."""

from __future__ import annotations

import shlex
import threading
from pathlib import Path

from specscope.client.reach import unreachable
from specscope.demo_model import resolve_model_path
from specscope.engines.base import (
    ServerHandle,
    ServerSettings,
    SpecSettings,
    describe_spec,
    spec_note,
)
from specscope.engines.endpoint import Endpoint
from specscope.engines.errors import EngineStartError
from specscope.engines.registry import get_recipe, server_tokenizer
from specscope.engines.server import ManagedServer, pick_free_port
from specscope.errors import UserError
from specscope.sweep.hooks import SweepHooks
from specscope.sweep.plan import ServerConfig
from specscope.sweep.recipe import Recipe
from specscope.sweep.stale import remove_pid_file, write_pid_file
from specscope.workload.tokenizer import Tokenizer


def _with_draft_path(spec: SpecSettings) -> SpecSettings:
    """``spec`` with a ``demo:<name>`` draft model replaced by its assembled GGUF's path (the
    stored spec config keeps the name)."""
    if spec.draft_model is None:
        return spec
    return spec.model_copy(update={"draft_model": resolve_model_path(spec.draft_model)})


class Servers:
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
