"""A tiny process that stops a launched server when specscope dies without stopping it.

A server gets SIGTERM from the kernel when specscope dies (PR_SET_PDEATHSIG), but one SIGTERM
is not always enough: a server can hang on its way out (llama-server was seen stuck in a futex,
reparented to init). So each launched server gets a watchdog that outlives specscope. It runs in
its own session (a terminal's Ctrl-C does not reach it) and does nothing while specscope lives.
Once specscope is gone (the watchdog's parent changes) it sends SIGTERM to the server's process
group, waits the grace period, then SIGKILLs whatever is left. It exits as soon as the group is
empty, so a normal ``stop()`` ends it too.

The server's pid comes over the watchdog's stdin (a pipe): the server's child process writes its
own pid there after fork and before exec, so a specscope killed at any moment after the fork
still leaves a watched server. End of file with no pid means nothing was launched.

Run as a script by path (``python -I -S watchdog.py OWNER_PID GRACE_S [POLL_S]``): it imports
only the standard library, so it starts fast and holds little memory. Lines it prints go to the
server's log.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import time
from datetime import UTC, datetime

DEFAULT_POLL_S = 0.25
_LATE_PID_S = 2.0  # after the owner died: how long to wait for a pid already on its way


def _say(text: str) -> None:
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    print(f"=== specscope watchdog {stamp}: {text}", flush=True)


def group_exists(pgid: int) -> bool:
    """True while any process (zombies included) is left in process group ``pgid``."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, though not ours to signal
        return True
    return True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def read_pid(fd: int, owner_pid: int, poll_s: float) -> int | None:
    """The server pid written to ``fd``; None at end of file without one, or when the owner
    died and no pid arrived soon after."""
    data = b""
    owner_gone_at: float | None = None
    while b"\n" not in data:
        ready, _, _ = select.select([fd], [], [], poll_s)
        if ready:
            chunk = os.read(fd, 64)
            if not chunk:
                break
            data += chunk
            continue
        if owner_gone_at is None and os.getppid() != owner_pid:
            owner_gone_at = time.monotonic()
        if owner_gone_at is not None and time.monotonic() - owner_gone_at > _LATE_PID_S:
            break
    line = data.split(b"\n", 1)[0].strip()
    return int(line) if line.isdigit() else None


def stop_group(pgid: int, grace_s: float, poll_s: float) -> bool:
    """SIGTERM the group, SIGKILL it if anything is left after ``grace_s``; True if it had to."""
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while group_exists(pgid) and time.monotonic() < deadline:
        time.sleep(min(poll_s, 0.05))
    if not group_exists(pgid):
        return False
    _signal_group(pgid, signal.SIGKILL)
    return True


def watch(owner_pid: int, grace_s: float, poll_s: float = DEFAULT_POLL_S, fd: int = 0) -> int:
    """Guard one server for ``owner_pid``; the exit status of the watchdog."""
    pgid = read_pid(fd, owner_pid, poll_s)
    if pgid is None:
        return 0
    while group_exists(pgid):
        if os.getppid() != owner_pid:
            _say(f"specscope (pid {owner_pid}) is gone; SIGTERM to server group {pgid}")
            if stop_group(pgid, grace_s, poll_s):
                _say(f"server group {pgid} still running after {grace_s:g} s; sent SIGKILL")
            return 0
        time.sleep(poll_s)
    return 0


def main(argv: list[str]) -> int:
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # whatever specscope had set
    owner_pid, grace_s = int(argv[1]), float(argv[2])
    poll_s = float(argv[3]) if len(argv) > 3 else DEFAULT_POLL_S
    return watch(owner_pid, grace_s, poll_s)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
