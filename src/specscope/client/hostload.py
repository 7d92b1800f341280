"""How busy the rest of the host was while a point was measured.

On a shared machine another process can take CPU from the engine mid-window and make one repeat
of a point half as fast as the next, with nothing in the numbers to say why. So the sweep reads
the kernel's counters at the start and at the end of every point's timed window (Linux
``/proc``; elsewhere nothing is measured and no point fails for it):

- ``/proc/stat``, the aggregate ``cpu`` line: clock ticks (jiffies, ``CLK_TCK`` per second) each
  CPU spent per state since boot, summed over the CPUs. **Busy** is user + nice + system + irq +
  softirq; idle and iowait are not busy, and the guest columns are already inside user and nice.
  **Steal** (time the hypervisor gave this VM's virtual CPUs to other guests: noisy neighbours
  outside the VM) is kept apart, not in busy.
- ``/proc/PID/stat`` of **our processes**: the measuring process and all its descendants (found
  through each process's parent pid), i.e. the server the sweep launched and the client's worker
  processes, plus, when the server is an endpoint on this host that specscope did not launch,
  the process listening on its port and that process's descendants. Each counts utime + stime
  **+ cutime + cstime**: a child that exits inside the window takes its CPU time out of its own
  counters and its parent adds it to cutime/cstime when it reaps the child, so the tree's sum of
  all four changes by exactly the CPU the tree used in the window (a client worker process that
  starts and ends inside it included), as long as the tree reaps its own children. A descendant
  reaped by a process outside the tree (orphaned and adopted by init) has its CPU counted as
  other processes', which errs towards flagging; so does an endpoint in a container behind a
  port proxy (the proxy is the process found listening, not the engine).
- ``/proc/loadavg``: the 1-minute load average at the end, for context.

Over the window: ``other_cpu_cores`` = (Δ busy ticks of the host − Δ ticks of our tree) /
``CLK_TCK`` / wall seconds, clamped at 0 (the two sets of counters are sampled differently and
can disagree by a few ticks); ``steal_cores`` = Δ steal ticks / ``CLK_TCK`` / wall seconds.

A window is **disturbed** when ``other_cpu_cores + steal_cores`` reaches
:func:`disturbance_threshold_cores` (see :data:`MIN_DISTURBED_CORES` and
:data:`DISTURBED_CORE_FRACTION` for why those numbers). Under the Ray executor the measuring
process is the Ray worker, so Ray's driver, raylet and other workers on the node count as other
processes: they do compete with the engine for the same cores.
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError

from specscope.procfs import PROC, stat_fields
from specscope.schema import Point

MIN_DISTURBED_CORES = 0.25
"""Other processes + steal (cores) from which a window is disturbed, on any host. On a 2-core
box whose engine runs one thread per core, a neighbour using 0.25 cores takes about 12 % of the
engine's CPU time, which moves its throughput by about as much as the effects a comparison
resolves. An idle box reads a few hundredths of a core (kernel threads, the shell, sshd), and
rounding to whole ticks adds a few hundredths more over a window of a second or more, so 0.25
is well clear of that noise."""
DISTURBED_CORE_FRACTION = 0.10
"""On a large host the threshold is this fraction of its cores instead (6.4 of 64): a GPU server
runs housekeeping on several cores without slowing an engine that uses a few of them, while a
tenth of a host's cores busy elsewhere contends for memory bandwidth and the engine's own
scheduler threads."""
MIN_JUDGED_WINDOW_S = 1.0
"""Windows shorter than this are measured but not judged: the counters tick ``CLK_TCK`` (100)
times a second, so over a fraction of a second a few ticks of rounding are a sizeable fraction
of a core."""


def disturbance_threshold_cores(host_cores: int) -> float:
    """Other + steal cores from which a window on a host with ``host_cores`` CPUs is disturbed:
    the larger of :data:`MIN_DISTURBED_CORES` and :data:`DISTURBED_CORE_FRACTION` of the cores."""
    return max(MIN_DISTURBED_CORES, DISTURBED_CORE_FRACTION * host_cores)


# --------------------------------------------------------------------------------------------
# parsing (pure)


@dataclass(frozen=True, slots=True)
class CpuTicks:
    """The aggregate ``cpu`` line of ``/proc/stat``: clock ticks since boot, summed over CPUs."""

    user: int
    nice: int
    system: int
    idle: int
    iowait: int
    irq: int
    softirq: int
    steal: int

    @property
    def busy(self) -> int:
        """Ticks spent running anything (guest time is inside user and nice; steal is apart)."""
        return self.user + self.nice + self.system + self.irq + self.softirq


def parse_proc_stat(text: str) -> CpuTicks:
    """The aggregate ``cpu`` line of a ``/proc/stat`` text (columns a kernel lacks read as 0)."""
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            values = [int(v) for v in fields[1:9]]
            values += [0] * (8 - len(values))
            return CpuTicks(*values)
    raise ValueError("no aggregate 'cpu' line in /proc/stat")


@dataclass(frozen=True, slots=True)
class ProcTicks:
    """One process from ``/proc/PID/stat``."""

    pid: int
    ppid: int
    ticks: int
    """utime + stime + cutime + cstime: its own CPU and that of the children it reaped."""


def parse_pid_stat(text: str) -> ProcTicks:
    """One ``/proc/PID/stat`` line. The command name (2nd field) may hold spaces and
    parentheses, so the fields after it are found from the last ``)``."""
    pid = int(text.split("(", 1)[0])
    rest = stat_fields(text)
    utime, stime, cutime, cstime = (int(v) for v in rest[11:15])
    return ProcTicks(pid=pid, ppid=int(rest[1]), ticks=utime + stime + cutime + cstime)


def parse_loadavg(text: str) -> float:
    """The 1-minute load average from ``/proc/loadavg``."""
    return float(text.split()[0])


def tree_pids(parents: Mapping[int, int], roots: Iterable[int]) -> set[int]:
    """``roots`` that exist in ``parents`` (pid → parent pid) and all their descendants."""
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found: set[int] = set()
    todo = [r for r in roots if r in parents]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, ()))
    return found


def listening_inodes(proc_net_tcp: str, port: int) -> set[int]:
    """Socket inodes listening on ``port`` in a ``/proc/net/tcp`` or ``tcp6`` text."""
    inodes: set[int] = set()
    for line in proc_net_tcp.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10:
            continue
        local, state, inode = fields[1], fields[3], fields[9]
        if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
            inodes.add(int(inode))
    return inodes


@dataclass(frozen=True, slots=True)
class HostSnapshot:
    """The counters at one instant."""

    perf_s: float
    """``time.perf_counter()`` when read."""
    cpu: CpuTicks
    tree_ticks: int
    """Σ :attr:`ProcTicks.ticks` over our processes."""
    loadavg_1m: float


class HostLoad(BaseModel):
    """The rest of the host over one measured window."""

    model_config = ConfigDict(frozen=True)

    wall_s: float
    """Seconds between the two readings (they bracket the timed phase)."""
    host_cores: int
    """CPUs the operating system shows (``os.cpu_count()``)."""
    other_cpu_cores: float
    """Cores other processes kept busy on average (1.0 = one core all the time)."""
    steal_cores: float
    """Cores the hypervisor gave to other guests on average (0 outside a VM)."""
    own_cpu_cores: float
    """Cores our processes (client and server) used on average."""
    loadavg_1m: float
    """1-minute load average at the end of the window."""
    threshold_cores: float
    """Other + steal cores from which the window counts as disturbed."""
    judged: bool = True
    """False for a window too short to judge or when the server's own CPU could not be told
    apart from other processes' (``not_judged_reason`` says which); never disturbed then."""
    disturbed: bool
    """Other + steal cores reached ``threshold_cores`` over a judged window."""
    not_judged_reason: str | None = None

    @property
    def foreign_cores(self) -> float:
        """Other processes + steal, cores: what ``threshold_cores`` is compared with."""
        return self.other_cpu_cores + self.steal_cores

    def describe(self) -> str:
        """``other processes 0.90 cores`` (with steal when there was any)."""
        text = f"other processes {self.other_cpu_cores:.2f} cores"
        if self.steal_cores >= 0.005:
            text += f" + steal {self.steal_cores:.2f}"
        return text


def host_load(
    start: HostSnapshot,
    end: HostSnapshot,
    *,
    clk_tck: int,
    host_cores: int,
    unjudged: str | None = None,
    min_window_s: float = MIN_JUDGED_WINDOW_S,
) -> HostLoad:
    """The host's load between two snapshots of the same process tree.

    ``unjudged`` gives a reason not to judge the window (``not_judged_reason``); a window
    shorter than ``min_window_s`` is not judged either.
    """
    wall = end.perf_s - start.perf_s
    if wall <= 0:
        raise ValueError(f"the end snapshot must come after the start one (wall {wall} s)")
    ticks = clk_tck * wall
    own = end.tree_ticks - start.tree_ticks
    other = (end.cpu.busy - start.cpu.busy - own) / ticks
    steal = (end.cpu.steal - start.cpu.steal) / ticks
    threshold = disturbance_threshold_cores(host_cores)
    reason = unjudged
    if reason is None and wall < min_window_s:
        reason = f"window {wall:.2f} s is shorter than {min_window_s:g} s: not judged"
    other, steal = max(0.0, other), max(0.0, steal)
    return HostLoad(
        wall_s=wall,
        host_cores=host_cores,
        other_cpu_cores=other,
        steal_cores=steal,
        own_cpu_cores=max(0.0, own / ticks),
        loadavg_1m=end.loadavg_1m,
        threshold_cores=threshold,
        judged=reason is None,
        disturbed=reason is None and other + steal >= threshold,
        not_judged_reason=reason,
    )


# --------------------------------------------------------------------------------------------
# reading /proc


def _processes(proc: Path) -> list[ProcTicks]:
    """Every process whose stat could be read (one may exit while the list is read)."""
    out: list[ProcTicks] = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            out.append(parse_pid_stat((entry / "stat").read_text()))
        except (OSError, ValueError, IndexError):
            continue
    return out


def read_snapshot(roots: Iterable[int], proc: Path = PROC) -> HostSnapshot:
    """The counters now, for ``roots`` and their descendants (raises OSError without /proc)."""
    cpu = parse_proc_stat((proc / "stat").read_text())
    processes = _processes(proc)
    ours = tree_pids({p.pid: p.ppid for p in processes}, roots)
    return HostSnapshot(
        perf_s=time.perf_counter(),
        cpu=cpu,
        tree_ticks=sum(p.ticks for p in processes if p.pid in ours),
        loadavg_1m=parse_loadavg((proc / "loadavg").read_text()),
    )


def is_loopback(url: str) -> bool:
    """Whether ``url`` names this host through a loopback name or address."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listening_pids(port: int, proc: Path = PROC) -> set[int]:
    """Processes holding a socket that listens on TCP ``port`` (only processes whose file
    descriptors this user may read: one's own)."""
    inodes: set[int] = set()
    for name in ("tcp", "tcp6"):
        try:
            inodes |= listening_inodes((proc / "net" / name).read_text(), port)
        except OSError:
            continue
    if not inodes:
        return set()
    wanted = {f"socket:[{inode}]" for inode in inodes}
    pids: set[int] = set()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in wanted for fd in (entry / "fd").iterdir()):
                pids.add(int(entry.name))
        except OSError:
            continue
    return pids


class HostMeter(Protocol):
    """Measures the host's load between ``start`` and ``stop`` (see :class:`HostSampler`)."""

    def start(self) -> None: ...

    def stop(self) -> HostLoad | None: ...


class HostSampler:
    """Reads the counters at ``start`` and ``stop`` and returns the window's :class:`HostLoad`.

    Our processes are this process and its descendants. ``server_url`` names a server that
    specscope did not launch: when it is on this host (a loopback URL), the process listening on
    its port joins our processes; when that process cannot be found the window is measured but
    not judged (the server's CPU would read as other processes'). ``stop`` returns None where
    ``/proc`` cannot be read (not Linux): measuring the host never fails a point.
    """

    def __init__(self, server_url: str | None = None, proc: Path = PROC) -> None:
        self._server_url = server_url
        self._proc = proc
        self._roots: set[int] = {os.getpid()}
        self._unjudged: str | None = None
        self._start: HostSnapshot | None = None

    def start(self) -> None:
        self._start = None
        self._unjudged = None
        url = self._server_url
        try:
            if url is not None and is_loopback(url):
                port = urlsplit(url).port or (443 if url.startswith("https") else 80)
                server = listening_pids(port, self._proc)
                if not server:
                    self._unjudged = (
                        f"the server on port {port} of this host was not found among this "
                        "user's processes, so its CPU cannot be told from other processes'"
                    )
                self._roots = {os.getpid(), *server}
            self._start = read_snapshot(self._roots, self._proc)
        except (OSError, ValueError, IndexError):
            self._start = None

    def stop(self) -> HostLoad | None:
        if self._start is None:
            return None
        try:
            end = read_snapshot(self._roots, self._proc)
            return host_load(
                self._start,
                end,
                clk_tck=os.sysconf("SC_CLK_TCK"),
                host_cores=os.cpu_count() or 1,
                unjudged=self._unjudged,
            )
        except (OSError, ValueError, IndexError):
            return None


# --------------------------------------------------------------------------------------------
# what a point stores, and how it is said


class FirstAttempt(BaseModel):
    """A disturbed window that was measured again: its host load and headline results."""

    model_config = ConfigDict(frozen=True)

    host: HostLoad
    status: str
    throughput_per_gpu: float
    """Total tok/s/GPU."""
    output_throughput_per_gpu: float | None = None
    interactivity: float
    """tok/s/user."""
    duration_s: float | None = None


class HostRecord(HostLoad):
    """``Point.provenance.extra["host"]``: the stored window's host load, and the first attempt
    when the point was measured again because that one was disturbed."""

    first_attempt: FirstAttempt | None = None
    remeasure_error: str | None = None
    """Why the re-measurement did not happen (the stored window is then the first one)."""

    @property
    def remeasured(self) -> bool:
        return self.first_attempt is not None

    @property
    def marks(self) -> str:
        """``⚠`` when the stored window was disturbed, ``↻`` when the point was measured again
        (both: ``↻ ⚠``); empty otherwise."""
        return " ".join(m for m, on in (("↻", self.remeasured), ("⚠", self.disturbed)) if on)

    def note(self, interactivity: float) -> str | None:
        """One line for a disturbed or re-measured point (None when neither); ``interactivity``
        is the stored point's tok/s/user."""
        first = self.first_attempt
        if first is not None:
            then = (
                f"the first window was disturbed ({first.host.describe()}); tok/s/user then "
                f"{first.interactivity:.1f}"
            )
            if self.disturbed:
                return f"re-measured, still disturbed ({self.describe()}): {then}"
            return f"re-measured: {then}, now {interactivity:.1f}"
        if not self.disturbed:
            return None
        text = (
            f"disturbed: {self.describe()} of this host's {self.host_cores} over the window "
            f"(limit {self.threshold_cores:.2f})"
        )
        if self.remeasure_error is not None:
            text += f"; not re-measured: {self.remeasure_error}"
        return text


def host_record(extra: Mapping[str, Any]) -> HostRecord | None:
    """The host record of a point's ``provenance.extra``; None when absent or unreadable."""
    raw = extra.get("host")
    if raw is None:
        return None
    try:
        return HostRecord.model_validate(raw)
    except ValidationError:
        return None


def host_note(point: Point) -> str | None:
    """One line saying a point was disturbed or re-measured, or None (also for points measured
    without a host record: imported, predicted or not on Linux)."""
    record = host_record(point.provenance.extra)
    return None if record is None else record.note(point.interactivity)


def disturbance_summary(points: Sequence[Point]) -> str | None:
    """One line: how many of the points with a host record were disturbed and re-measured, and
    the threshold; None when no point has a host record."""
    records = [r for r in (host_record(p.provenance.extra) for p in points) if r is not None]
    if not records:
        return None
    disturbed = sum(r.disturbed for r in records)
    remeasured = sum(r.remeasured for r in records)
    cores = sorted({r.host_cores for r in records})
    limits = ", ".join(
        f"{disturbance_threshold_cores(c):.2f} on {c} core{'s' if c != 1 else ''}" for c in cores
    )
    n = len(records)
    text = f"Host load: {disturbed} of {n} point{'s' if n != 1 else ''} measured while other "
    text += f"processes were busy (other + steal ≥ max({MIN_DISTURBED_CORES:g} cores, "
    text += f"{DISTURBED_CORE_FRACTION * 100:g} % of the host's cores): {limits})"
    if remeasured:
        still = sum(r.remeasured and r.disturbed for r in records)
        text += f"; {remeasured} re-measured"
        text += f" ({still} still disturbed)" if still else " (quiet the second time)"
    return text
