"""Where a load run's CPU goes: CPU seconds by part of the stack, read from /proc (Linux).

A part is a process tree: its processes' own time plus what their children that already
exited left in ``cutime``/``cstime`` (a recycled gunicorn worker, a Postgres backend of a
closed connection). The load generator runs as a child of the runner and is counted from
``os.times()`` once it has been waited for. "Machine" is the busy time of every core from
/proc/stat; what it has beyond the parts is everything else on the machine.
"""

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, str, float]]:
    """pid → (parent pid, command name, CPU seconds of it and its reaped children)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        # fields[1] is the parent pid; [11:15] utime, stime, cutime, cstime in clock ticks.
        found[int(entry.name)] = (int(fields[1]), name, sum(int(t) for t in fields[11:15]) / TICKS)
    return found


def _tree_seconds(root: int, processes: dict[int, tuple[int, str, float]]) -> float:
    total, todo = 0.0, [root]
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    while todo:
        pid = todo.pop()
        if pid in processes:
            total += processes[pid][2]
            todo += children.get(pid, [])
    return total


def _roots(processes: dict[int, tuple[int, str, float]], name: str) -> list[int]:
    """Processes called ``name`` whose parent is not: the postmaster, redis-server."""
    return [
        pid
        for pid, (parent, comm, _) in processes.items()
        if comm == name and processes.get(parent, (0, "", 0.0))[1] != name
    ]


def machine_busy_seconds() -> float:
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / TICKS


def snapshot(parts: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds so far of each named part (its root pids), of Postgres, Redis, the load
    generator and the whole machine."""
    processes = _processes()
    seconds = {name: sum(_tree_seconds(pid, processes) for pid in roots) for name, roots in parts.items()}
    seconds["Postgres"] = sum(_tree_seconds(pid, processes) for pid in _roots(processes, "postgres"))
    seconds["Redis"] = sum(_tree_seconds(pid, processes) for pid in _roots(processes, "redis-server"))
    times = os.times()
    seconds["load generator (locust)"] = times.children_user + times.children_system
    seconds["machine"] = machine_busy_seconds()
    return seconds


def per_request(before: dict[str, float], after: dict[str, float], requests: float) -> dict[str, float]:
    """CPU milliseconds per request of each part over the window, and of "everything else"
    (the machine's busy time beyond the parts)."""
    spent = {name: after[name] - before[name] for name in before}
    machine = spent.pop("machine")
    spent["everything else"] = max(0.0, machine - sum(spent.values()))
    spent["machine"] = machine
    return {name: seconds * 1000 / requests for name, seconds in spent.items()} if requests else {}
