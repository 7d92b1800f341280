"""Our load generator against GuideLLM and AIPerf: client CPU per token, top rate, timing error.

Every client streams the same load from the same local server (``fast_stream_server.py``: one
token per SSE event on loopback, fault-free, pre-built bytes, so the server is cheaper per token
than any client) over the chat API, at each concurrency (default 1, 64, 256 and 1 024), in two
modes:

* **max**: the server sends every stream's tokens as fast as the client takes them. Gives the
  highest token rate the client sustains (tokens the server wrote over its window: first request
  read → last token written) and the client's CPU seconds per 1 000 tokens at that rate.
* **paced**: the server sends each stream's tokens ``concurrency / --paced-tok-s`` apart (4 000
  tok/s offered in all), so tokens arrive one per read as from a real engine. Gives CPU per
  1 000 tokens at a modest rate and the timing error: the client's median TTFT and median ITL
  (per request, (last − first token) / (n − 1)) against the same medians from the server's own
  timestamps (TTFT: request read → first token written). For our client it also gives the
  per-chunk delivery delay (client arrival − server write, matched by prompt; one clock,
  CLOCK_MONOTONIC, for both processes).

Client CPU: user + system seconds of the client's whole process tree (its workers included),
read from /proc every 50 ms and interpolated to the server's window, so start-up (GuideLLM
imports torch) and post-processing after the last token are not counted; only the load itself.

Runs (the same for every client; ``plan``): at least two waves of requests, 8 to 256 output
tokens each; max runs 65 536 tokens (concurrency 1: 256 × 256, 64: 256 × 256, 256: 512 × 128,
1 024: 2 048 × 32), paced runs 4 096 tokens (16 × 256, 128 × 32, 512 × 8; 1 024: 2 048 × 8);
prompts of 16 tokens, ``ignore_eos``, no warm-up.
Peers run with their lightest settings: no UI, no server metrics or GPU telemetry, server token
counts (AIPerf ``--use-server-token-count``), a local word-level tokenizer (no network).

GuideLLM and AIPerf are installed from PyPI, each into its own virtual environment under
``~/.cache/specscope/peers/<name>``, only when missing (GuideLLM pulls torch: several GB). A peer
that cannot be installed or run is reported with the reason, and the others go on. Every run is
bounded by ``--run-timeout-s``; the whole default matrix takes about 10 minutes on 2 cores.

Run::

    PYTHONPATH=src python benchmarks/client_overhead.py [--concurrency 1 64] [--modes max]
        [--clients ours guidellm aiperf] [--no-install] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SERVER = REPO / "benchmarks" / "fast_stream_server.py"
PEERS_DIR = Path.home() / ".cache" / "specscope" / "peers"
TOKENIZER_DIR = PEERS_DIR / "tokenizer"
CLIENTS = ("ours", "guidellm", "aiperf")
PROMPT_TOKENS = 16
TOKENS_PER_RUN = {"max": 65_536, "paced": 4_096}

OURS = r"""
import asyncio, json, sys
from specscope.client.load import ClosedLoop
from specscope.client.protocols import BenchPrompt
from specscope.client.runner import LoadRun, run_load

def main() -> None:
    url, c, n, tokens, workers, timeout, out = sys.argv[1:8]
    c, n, tokens = int(c), int(n), int(tokens)
    filler = " tok" * 14
    prompts = [BenchPrompt(prompt=f"bench {i}{filler}", output_tokens=tokens) for i in range(n)]
    res = asyncio.run(run_load(LoadRun(
        base_url=url, api="chat", model="m", prompts=prompts,
        load=ClosedLoop(concurrency=c, num_requests=n),
        timeout_s=float(timeout), workers=None if workers == "auto" else int(workers),
    )))
    records = [
        {"index": r.index, "send_s": r.send_s, "chunks": r.chunk_times_s, "ok": r.ok,
         "error": r.error, "tokens": r.output_tokens}
        for r in res.timed_records
    ]
    with open(out, "w") as f:
        json.dump({"origin": res.origin_perf_s, "workers": res.client_workers,
                   "cpu_util": res.client_cpu_util, "lag_p99_s": res.client_loop_lag_p99_s,
                   "records": records}, f)

if __name__ == "__main__":
    main()
"""

TOKENIZER = r"""
import string, sys
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast
words = ["[UNK]", "[BOS]", "[EOS]", "[PAD]", "tok", "the", "a", "of", "and", "to", "in", "is"]
words += list(string.ascii_letters + string.digits + string.punctuation)
vocab = {w: i for i, w in enumerate(dict.fromkeys(words))}
tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
tok.pre_tokenizer = pre_tokenizers.Whitespace()
tok.decoder = decoders.WordPiece()
PreTrainedTokenizerFast(
    tokenizer_object=tok, unk_token="[UNK]", bos_token="[BOS]", eos_token="[EOS]",
    pad_token="[PAD]", model_max_length=1 << 20,
).save_pretrained(sys.argv[1])
"""


def plan(concurrency: int, mode: str) -> tuple[int, int]:
    """(requests, output tokens) of a run: at least two waves, outputs of 8 to 256 tokens."""
    total = TOKENS_PER_RUN[mode]
    tokens = max(8, min(256, total // (2 * concurrency)))
    return max(2 * concurrency, total // tokens), tokens


# --- measuring a process tree -------------------------------------------------------------------


def _ticks(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[11]) + int(fields[12])


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for task in tasks:
        with contextlib.suppress(OSError):
            out += [int(x) for x in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    return out


class TreeCpu:
    """CPU seconds of a process and all its descendants, sampled every ``interval_s``.

    A process that exits keeps the CPU seen at its last sample; ``between`` interpolates."""

    def __init__(self, root: int, interval_s: float = 0.05) -> None:
        self.root = root
        self.interval_s = interval_s
        self.last: dict[int, int] = {}
        self.times: list[float] = []
        self.totals: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._hz = os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> TreeCpu:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self._sample()
            if self._stop.wait(self.interval_s):
                self._sample()
                return

    def _sample(self) -> None:
        t = time.perf_counter()
        todo = [self.root]
        while todo:
            pid = todo.pop()
            ticks = _ticks(pid)
            if ticks is None:
                continue
            self.last[pid] = ticks
            todo += _children(pid)
        self.times.append(t)
        self.totals.append(sum(self.last.values()) / self._hz)

    def between(self, t0: float, t1: float) -> float:
        return float(
            np.interp(t1, self.times, self.totals) - np.interp(t0, self.times, self.totals)
        )


# --- the server ---------------------------------------------------------------------------------


class Server:
    """The fast fake server in its own process, for one run; its records once stopped."""

    def __init__(self, itl_ms: float, record: Path, max_seconds: float) -> None:
        self.record = record
        self.proc = subprocess.Popen(
            [
                *(sys.executable, str(SERVER), "--itl-ms", str(itl_ms), "--record", str(record)),
                *("--max-seconds", str(max_seconds), "--watch-stdin"),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        self.cpu = TreeCpu(self.proc.pid, 0.1).__enter__()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> list[dict[str, Any]]:
        self.cpu.__exit__()
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        try:
            return list(json.loads(self.record.read_text())["requests"])
        except (OSError, ValueError, KeyError):
            return []


# --- the clients --------------------------------------------------------------------------------


def peer_bin(name: str) -> Path:
    return PEERS_DIR / name / "bin" / name


def ensure_peer(name: str, install: bool) -> str | None:
    """None when the peer's CLI is ready, else why it is not."""
    if peer_bin(name).exists():
        return None
    if not install:
        return f"{name} is not installed in {PEERS_DIR / name} (run without --no-install)"
    print(f"installing {name} into {PEERS_DIR / name} (from PyPI; once) …", flush=True)
    PEERS_DIR.mkdir(parents=True, exist_ok=True)
    log = PEERS_DIR / f"{name}-install.log"
    with log.open("w") as out:
        steps = [
            [sys.executable, "-m", "venv", str(PEERS_DIR / name)],
            [str(PEERS_DIR / name / "bin" / "pip"), "install", "--quiet", name],
        ]
        for step in steps:
            try:
                rc = subprocess.run(step, stdout=out, stderr=out, timeout=3600).returncode
            except subprocess.TimeoutExpired:
                return f"installing {name} took over an hour; see {log}"
            if rc != 0:
                return f"installing {name} failed (exit {rc}); see {log}"
    return None if peer_bin(name).exists() else f"{name} installed but has no CLI; see {log}"


def ensure_tokenizer(peers: list[str]) -> str | None:
    """A local word-level HF tokenizer (no network), built with a peer's own transformers."""
    if (TOKENIZER_DIR / "tokenizer.json").exists():
        return None
    for name in peers:
        python = PEERS_DIR / name / "bin" / "python"
        if python.exists():
            done = subprocess.run(
                [str(python), "-c", TOKENIZER, str(TOKENIZER_DIR)],
                capture_output=True,
                text=True,
                timeout=300,
            )
            if done.returncode == 0:
                return None
            return f"building the local tokenizer failed: {done.stderr.strip()[-300:]}"
    return "no peer environment to build the local tokenizer with"


def peer_command(name: str, url: str, c: int, n: int, tokens: int, out: Path) -> list[str]:
    if name == "guidellm":
        return [
            str(peer_bin(name)),
            "run",
            "--backend",
            f"kind=openai_http,target={url}",
            "--profile",
            f"kind=concurrent,streams={c}",
            "--constraint",
            f"kind=max_requests,count={n}",
            "--data",
            f"kind=synthetic_text,prompt_tokens={PROMPT_TOKENS},output_tokens={tokens}",
            "--tokenizer",
            f"kind=huggingface_auto,model={TOKENIZER_DIR}",
            "--output",
            f"kind=json,path={out / 'benchmarks.json'}",
            "--disable-console-interactive",
        ]
    return [
        str(peer_bin(name)),
        "profile",
        "--model",
        "m",
        "--url",
        url,
        "--endpoint-type",
        "chat",
        "--streaming",
        "--tokenizer",
        str(TOKENIZER_DIR),
        "--concurrency",
        str(c),
        "--request-count",
        str(n),
        "--prompt-input-tokens-mean",
        str(PROMPT_TOKENS),
        "--prompt-input-tokens-stddev",
        "0",
        "--prompt-output-tokens-mean",
        str(tokens),
        "--prompt-output-tokens-stddev",
        "0",
        "--extra-inputs",
        "ignore_eos:true",
        "--use-server-token-count",
        "--ui",
        "none",
        "--no-server-metrics",
        "--no-gpu-telemetry",
        "--output-artifact-dir",
        str(out),
    ]


def peer_medians_ms(name: str, out: Path) -> tuple[float | None, float | None]:
    """The peer's own median TTFT and ITL (ms), from its JSON output."""
    try:
        if name == "guidellm":
            metrics = json.loads((out / "benchmarks.json").read_text())["benchmarks"][0]["metrics"]
            return (
                metrics["time_to_first_token_ms"]["successful"]["median"],
                metrics["inter_token_latency_ms"]["successful"]["median"],
            )
        data = json.loads((out / "profile_export_aiperf.json").read_text())
        return data["time_to_first_token"]["p50"], data["inter_token_latency"]["p50"]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None, None


@dataclass
class Row:
    client: str
    mode: str
    concurrency: int
    requests: int
    tokens_per_request: int
    note: str = ""
    workers: str = ""
    served: int = 0
    tokens: int = 0
    window_s: float = 0.0
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    ttft_err_ms: float | None = None
    itl_err_ms: float | None = None
    delivery_ms: dict[str, list[float]] = field(default_factory=dict)
    """Ours only, ms, [p50, p99]: first token's arrival − the server's write of it (TTFT's
    timing error), on all requests and after the first wave (connections then warm); and
    |our gap − the server's gap| between consecutive tokens (ITL's timing error)."""

    @property
    def tok_s(self) -> float:
        return self.tokens / self.window_s if self.window_s > 0 else 0.0

    @property
    def cpu_per_1k(self) -> float | None:
        return self.client_cpu_s / self.tokens * 1000 if self.tokens else None


def run_one(client: str, mode: str, c: int, args: argparse.Namespace, work: Path) -> Row:
    n, tokens = plan(c, mode)
    row = Row(client, mode, c, n, tokens)
    itl_ms = 0.0 if mode == "max" else c / args.paced_tok_s * 1000
    out = work / f"{client}-{mode}-{c}"
    out.mkdir(parents=True, exist_ok=True)
    server = Server(itl_ms, out / "server.json", args.run_timeout_s + 60)
    env = dict(os.environ)  # (AIPerf fails to load a local tokenizer with HF_HUB_OFFLINE=1)
    if client == "ours":
        env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
        cmd = [sys.executable, "-c", OURS, server.url, str(c), str(n), str(tokens)]
        cmd += [args.our_workers, str(args.run_timeout_s), str(out / "ours.json")]
    else:
        cmd = peer_command(client, server.url, c, n, tokens, out)
    log = (out / "client.log").open("w")
    proc = subprocess.Popen(
        cmd, cwd=out, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    timed_out = False
    with TreeCpu(proc.pid) as cpu:
        try:
            rc = proc.wait(timeout=args.run_timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            rc = proc.wait()
    log.close()
    served = [r for r in server.stop() if r["max_tokens"] == tokens and r["sent"]]
    if timed_out:
        row.note = f"timed out after {args.run_timeout_s:g} s"
    elif rc != 0:
        tail = (out / "client.log").read_text(errors="replace").strip().splitlines()[-3:]
        row.note = f"exit {rc}: {' | '.join(tail)[-200:]}"
    if not served:
        row.note = row.note or "the server saw no request"
        return row
    start = min(r["received"] for r in served)
    end = max(r["sent"][-1] for r in served)
    row.served = len(served)
    row.tokens = sum(len(r["sent"]) for r in served)
    row.window_s = end - start
    row.client_cpu_s = cpu.between(start, end)
    row.server_cpu_s = server.cpu.between(start, end)
    if row.served < n and not row.note:
        row.note = f"only {row.served} of {n} requests reached the server"
    full = [r for r in served if len(r["sent"]) == tokens]
    server_ttft = statistics.median(r["sent"][0] - r["received"] for r in full) * 1e3
    server_itl = (
        statistics.median((r["sent"][-1] - r["sent"][0]) / (tokens - 1) for r in full) * 1e3
    )
    if client == "ours":
        _ours_timing(row, out / "ours.json", served, server_ttft, server_itl, tokens)
    else:
        row.workers = "own"
        ttft, itl = peer_medians_ms(client, out)
        if ttft is not None and itl is not None:
            row.ttft_err_ms, row.itl_err_ms = ttft - server_ttft, itl - server_itl
    return row


def _ours_timing(
    row: Row,
    path: Path,
    served: list[dict[str, Any]],
    server_ttft: float,
    server_itl: float,
    tokens: int,
) -> None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        row.note = row.note or "our client wrote no records"
        return
    row.workers = str(data["workers"])
    failed = [r for r in data["records"] if not r["ok"]]
    if failed and not row.note:
        row.note = f"{len(failed)} failed, e.g. {failed[0]['error']}"[:200]
    ok = [r for r in data["records"] if r["ok"] and len(r["chunks"]) == tokens]
    if not ok:
        return
    ttft = statistics.median(r["chunks"][0] for r in ok) * 1e3
    itl = statistics.median((r["chunks"][-1] - r["chunks"][0]) / (tokens - 1) for r in ok) * 1e3
    row.ttft_err_ms, row.itl_err_ms = ttft - server_ttft, itl - server_itl
    by_index = {int(r["prompt"].split()[1]): r for r in served}
    first_wave = {r["index"] for r in sorted(ok, key=lambda r: r["send_s"])[: row.concurrency]}
    ttft_all: list[float] = []
    ttft_warm: list[float] = []
    gaps: list[float] = []
    for r in ok:
        sent = by_index.get(r["index"])
        if sent is None or len(sent["sent"]) != len(r["chunks"]):
            continue
        arrivals = [data["origin"] + r["send_s"] + t for t in r["chunks"]]
        first = (arrivals[0] - sent["sent"][0]) * 1e3
        ttft_all.append(first)
        if r["index"] not in first_wave:
            ttft_warm.append(first)
        for k in range(1, len(arrivals)):
            ours = arrivals[k] - arrivals[k - 1]
            theirs = sent["sent"][k] - sent["sent"][k - 1]
            gaps.append(abs(ours - theirs) * 1e3)

    def p50_p99(xs: list[float]) -> list[float]:
        return [float(np.median(xs)), float(np.percentile(xs, 99))] if xs else []

    row.delivery_ms = {
        "first token, all requests": p50_p99(ttft_all),
        "first token, after the first wave": p50_p99(ttft_warm),
        "|ITL gap error|": p50_p99(gaps),
    }


# --- the report ---------------------------------------------------------------------------------


def _f(x: float | None, fmt: str) -> str:
    return "—" if x is None else format(x, fmt)


def print_table(rows: list[Row], args: argparse.Namespace) -> None:
    cores = len(os.sched_getaffinity(0))
    print(
        f"\nclient overhead — chat API, one token per SSE event, {cores} cores; max runs "
        f"{TOKENS_PER_RUN['max']:,} tokens, paced runs {TOKENS_PER_RUN['paced']:,} tokens at "
        f"{args.paced_tok_s:g} tok/s offered"
    )
    head = (
        f"{'conc':>5} {'client':<9}{'wrk':>4} | {'max tok/s':>10} {'CPU s/1k':>9} {'util':>5} "
        f"{'srv':>5} | {'CPU s/1k':>9} {'TTFT Δ ms':>10} {'ITL Δ ms':>9} | note"
    )
    print(head)
    print(f"{'':>19} | {'max: as fast as sent':^32} | {'paced':^31} |")
    print("-" * len(head))
    by = {(r.client, r.mode, r.concurrency): r for r in rows}
    for c in args.concurrency:
        for client in args.clients:
            mx, pc = by.get((client, "max", c)), by.get((client, "paced", c))
            some = mx or pc
            if some is None:
                continue
            util = mx.client_cpu_s / mx.window_s if mx and mx.window_s else None
            srv = mx.server_cpu_s / mx.window_s if mx and mx.window_s else None
            notes = "; ".join(f"{r.mode}: {r.note}" for r in (mx, pc) if r and r.note)
            print(
                f"{c:>5} {client:<9}{some.workers:>4} | "
                f"{_f(mx.tok_s if mx else None, ',.0f'):>10} "
                f"{_f(mx.cpu_per_1k if mx else None, '.4f'):>9} {_f(util, '.2f'):>5} "
                f"{_f(srv, '.2f'):>5} | {_f(pc.cpu_per_1k if pc else None, '.4f'):>9} "
                f"{_f(pc.ttft_err_ms if pc else None, '+.2f'):>10} "
                f"{_f(pc.itl_err_ms if pc else None, '+.3f'):>9} | {notes}"
            )
    print(
        "\nCPU s/1k: client CPU seconds (whole process tree) per 1 000 streamed tokens over the "
        "server's window.\nutil, srv: client and server CPU seconds per wall second (max runs); "
        "srv near 1.0 means the server, not the client, set the rate.\nTTFT Δ, ITL Δ: the "
        "client's own median − the server's median (TTFT Δ includes connecting and sending the "
        "request)."
    )
    ours = [r for r in rows if r.client == "ours" and r.mode == "paced" and r.delivery_ms]
    if ours:
        print("\nour timing error against the server's write timestamps, ms (p50 / p99):")
        for r in ours:
            parts = [f"{k} {v[0]:.3f} / {v[1]:.3f}" for k, v in r.delivery_ms.items() if v]
            print(f"  conc {r.concurrency:>5}: " + "; ".join(parts))
    print("\nratios (peer ÷ ours; > 1 means ours is ahead):")
    for c in args.concurrency:
        mine_by_mode = {m: by.get(("ours", m, c)) for m in ("max", "paced")}
        for peer in (p for p in args.clients if p != "ours"):
            parts = []
            for mode in ("max", "paced"):
                mine, theirs = mine_by_mode[mode], by.get((peer, mode, c))
                if mine and theirs and mine.cpu_per_1k and theirs.cpu_per_1k:
                    parts.append(f"CPU/token {mode} {theirs.cpu_per_1k / mine.cpu_per_1k:.1f}×")
            mine, theirs = mine_by_mode["max"], by.get((peer, "max", c))
            if mine and theirs and theirs.tok_s:
                parts.append(f"max tok/s ours ÷ {peer} {mine.tok_s / theirs.tok_s:.1f}×")
            if parts:
                print(f"  conc {c:>5}  {peer:<9} " + ", ".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--concurrency", nargs="+", type=int, default=[1, 64, 256, 1024])
    parser.add_argument("--clients", nargs="+", choices=CLIENTS, default=list(CLIENTS))
    parser.add_argument("--modes", nargs="+", choices=("max", "paced"), default=["max", "paced"])
    parser.add_argument("--paced-tok-s", type=float, default=4000.0, help="tokens/s offered, paced")
    parser.add_argument("--our-workers", default="auto", help="'auto' or a number of processes")
    parser.add_argument("--run-timeout-s", type=float, default=240.0, help="limit per client run")
    parser.add_argument("--no-install", action="store_true", help="never install a missing peer")
    parser.add_argument("--json", type=Path, help="also write every row here")
    parser.add_argument("--keep", type=Path, help="keep run artefacts in this folder")
    args = parser.parse_args()

    peers = [p for p in args.clients if p != "ours"]
    for peer in list(peers):
        why = ensure_peer(peer, not args.no_install)
        if why is not None:
            print(f"skipping {peer}: {why}")
            args.clients.remove(peer)
            peers.remove(peer)
    if peers and (why := ensure_tokenizer(peers)) is not None:
        print(f"skipping {', '.join(peers)}: {why}")
        args.clients = [c for c in args.clients if c == "ours"]

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="specscope-overhead-") as tmp:
        work = args.keep or Path(tmp)
        for c in args.concurrency:
            for mode in args.modes:
                for client in args.clients:
                    t0 = time.perf_counter()
                    row = run_one(client, mode, c, args, work)
                    rows.append(row)
                    print(
                        f"  conc {c:>5} {mode:<5} {client:<9} {row.tokens:>6} tokens "
                        f"{row.tok_s:>9,.0f} tok/s  CPU/1k {_f(row.cpu_per_1k, '.4f')} s  "
                        f"({time.perf_counter() - t0:.0f} s){'  ' + row.note if row.note else ''}",
                        flush=True,
                    )
    print_table(rows, args)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))


if __name__ == "__main__":
    main()
