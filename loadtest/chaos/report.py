"""The chaos runs' report: one table row per scenario, the machine it ran on, and the
results block of docs/reliability.md's Chaos section rewritten with them."""

import datetime
import os
import platform
import re
import shutil
import subprocess
from pathlib import Path

from loadtest.drills.server import ROOT

DOC = ROOT / "docs" / "reliability.md"
START = "<!-- chaos results start -->"
END = "<!-- chaos results end -->"
HEADER = (
    "| scenario | passed | requests | acknowledged writes | found afterwards | duplicates "
    "| errors by kind | recovery | verify_events / verify_projections |"
)


def _errors(result: dict) -> str:
    errors = result.get("errors_by_kind") or {}
    return ", ".join(f"{kind}: {count}" for kind, count in errors.items()) or "none"


def _recovery(result: dict) -> str:
    scenario = result.get("scenario")
    if scenario == "contention":
        return f"slowest request {result['slowest_request_seconds']} s (no outage)"
    if scenario == "crash":
        workers = result["worker_replaced_after_seconds"]
        masters = result["serving_again_after_master_kill_seconds"]
        return (
            f"{result['workers_killed']} workers killed, replaced in ≤ {max(workers, default=0)} s; "
            f"{result['masters_killed']} masters killed, serving again in ≤ {max(masters, default=0)} s"
        )
    if scenario in ("redis-down", "redis-frozen"):
        return (
            f"Redis {'hung' if scenario == 'redis-frozen' else 'down'} {result['redis_down_seconds']} s "
            f"({result['requests_during_outage']} requests meanwhile, slowest "
            f"{result['slowest_request_during_outage_seconds']} s); "
            f"ready {result['ready_again_after_redis_up_seconds']} s, "
            f"feed published {result['feed_published_after_redis_up_seconds']} s, snapshots "
            f"{result['snapshots_caught_up_after_redis_up_seconds']} s after it is back"
        )
    if scenario == "postgres-restart":
        return (
            f"Postgres down {result['postgres_down_seconds']} s; writes served again "
            f"{result['serving_writes_again_after_postgres_up_seconds']} s after it is up, same processes: "
            f"{'yes' if result['same_processes_throughout'] else 'no'}; {result['refused_then_resent']} refused writes "
            f"resent with their keys: {result['resent_ok']} 2xx, {result['resent_replayed_as_already_written']} "
            "had been written"
        )
    if scenario == "tamper":
        return f"{result['edits_caught']} of {result['edits_made']} edits caught"
    return ""


def row(name: str, result: dict | None, passed: bool, error: str = "") -> str:
    if result is None:
        return f"| {name} | **no** | | | | | {error} | | |"
    integrity = " / ".join(result.get(key, "") or "–" for key in ("verify_events", "verify_projections"))
    if result.get("scenario") == "tamper":
        integrity = f"untouched: {result['untouched_log'][:2]}; edited: caught {result['edits_caught']}"
    duplicates = result.get("duplicated", "–")
    return (
        f"| {name} | {'yes' if passed else '**no**'} | {result.get('requests', '–')} | "
        f"{result.get('acknowledged', '–')} | {result.get('found', '–')} | {duplicates} | {_errors(result)} | "
        f"{_recovery(result)} | {integrity} |"
    )


def _version(command: list[str]) -> str:
    if shutil.which(command[0]) is None and not Path(command[0]).exists():
        return "?"
    output = subprocess.run(command, capture_output=True, text=True, check=False, timeout=10).stdout  # noqa: S603
    match = re.search(r"\d+\.\d+(\.\d+)?", output)
    return match.group(0) if match else "?"


def machine() -> str:
    cpu = "?"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")
        ]
        cpu = names[0] if names else "?"
    memory = "?"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kilobytes = int(meminfo.read_text().split()[1])
        memory = f"{round(kilobytes / 1024 / 1024)} GiB"
    from loadtest.drills.postgres import postgres_bin

    try:
        postgres = _version([str(postgres_bin() / "postgres"), "--version"])
    except RuntimeError:
        postgres = "?"
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} vCPU ({cpu}), {memory}, Linux {platform.release()}, Python {platform.python_version()}, "
        f"PostgreSQL {postgres}, Redis {_version(['redis-server', '--version'])}; load average {load:.1f} at the end"
    )


def block(rows: list[str], command: str, seconds: float) -> str:
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join(
        [
            START,
            f"Machine: {machine()}. Date: {today}. Command: `{command}` ({seconds:.0f} s in all).",
            "",
            HEADER,
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
            END,
        ]
    )


def write(text: str, doc: Path = DOC) -> None:
    """Replace the results block of the Chaos section (or add one before its end mark)."""
    content = doc.read_text()
    if START in content and END in content:
        before, rest = content.split(START, 1)
        after = rest.split(END, 1)[1]
        content = before + text + after
    else:
        content = content.replace("<!-- chaos end -->", f"{text}\n\n<!-- chaos end -->", 1)
    doc.write_text(content)
