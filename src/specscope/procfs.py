"""Reading Linux ``/proc``: one parser for a ``/proc/PID/stat`` line, shared by the places that
look at processes (stale servers, process groups, the host-load meter)."""

from __future__ import annotations

from pathlib import Path

PROC = Path("/proc")


def stat_fields(text: str) -> list[str]:
    """The fields of a ``/proc/PID/stat`` line after the command name, which may hold spaces and
    parentheses (so the split starts after the last ``)``). Index 0 is field 3 of proc(5),
    the state: ``[1]`` ppid, ``[2]`` pgrp, ``[11:15]`` utime stime cutime cstime, ``[19]``
    starttime."""
    return text[text.rfind(")") + 2 :].split()
