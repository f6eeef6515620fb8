"""Statistics of the event-store benchmark and the Markdown it writes into
docs/performance.md (between its own markers, inside the "Event store" section)."""

import math
import statistics
from dataclasses import dataclass
from pathlib import Path

BEGIN = "<!-- bench:event-store:begin -->"
END = "<!-- bench:event-store:end -->"
SECTION_END = "<!-- event store end -->"

RAW, OURS, OURS_APPEND_ONLY, PEER = "raw psycopg", "this store", "this store, append only", "eventsourcing"


@dataclass(frozen=True)
class Figure:
    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        """Nearest-rank 95th percentile."""
        ordered = sorted(self.samples)
        return ordered[math.ceil(0.95 * len(ordered)) - 1]


def _ms(seconds: float) -> str:
    milliseconds = seconds * 1000
    if milliseconds >= 100:
        return f"{milliseconds:,.0f}"
    if milliseconds >= 10:
        return f"{milliseconds:.1f}"
    return f"{milliseconds:.2f}"


def _rate(per_second: float) -> str:
    return f"{per_second:,.0f}"


def _times(ratio: float) -> str:
    return f"{ratio:.2f}x" if ratio < 10 else f"{ratio:,.0f}x"


def render(*, appends: dict, loads: dict, environment: dict, sizes: list[int]) -> str:
    """``appends[(size, system)]`` and ``loads[(events, snapshots, system)]`` are Figures."""
    lines = [
        BEGIN,
        f"Measured {environment['date']} with `{environment['command']}` on {environment['machine']}.",
        f"PostgreSQL {environment['postgres']}, the same server and database for all three"
        f" ({environment['durability']}); Python {environment['python']}, {environment['drivers']}.",
        f"Samples per line are in the tables; systems take turns in rounds ({environment['rounds']}).",
    ]
    if appends:
        lines += _appends_table(appends)
    if loads:
        lines += _loads_table(loads, sizes)
    lines += ["", *_targets(appends, loads, sizes), END]
    return "\n".join(lines)


def _appends_table(appends: dict) -> list[str]:
    lines = [
        "",
        "**Appends** to one long stream, each save its own transaction and commit. Events/s = events per",
        'save / median; "vs raw" = that rate over the raw psycopg rate.',
        "",
        "| events per save | system | median ms | p95 ms | events/s | vs raw | samples |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for size in sorted({size for size, _ in appends}):
        raw_rate = size / appends[(size, RAW)].median
        for system in (RAW, OURS, OURS_APPEND_ONLY, PEER):
            figure = appends[(size, system)]
            rate = size / figure.median
            lines.append(
                f"| {size:,} | {system} | {_ms(figure.median)} | {_ms(figure.p95)} | {_rate(rate)}"
                f" | {rate / raw_rate:.0%} | {len(figure.samples)} |"
            )
    return lines


def _loads_table(loads: dict, sizes: list[int]) -> list[str]:
    lines = [
        "",
        "**Loads** of an aggregate from a stream of N events: median ms (p95 ms), samples. With snapshots the",
        "newest snapshot sits at the stream's head. Raw psycopg = fetch the rows and decode their JSON.",
        "",
        f"| events | snapshots | {RAW} | {OURS} | {PEER} | {PEER} / {OURS} |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for events in sizes:
        for snapshots in (False, True):
            cells = []
            for system in (RAW, OURS, PEER):
                figure = loads[(events, snapshots, system)]
                cells.append(f"{_ms(figure.median)} ({_ms(figure.p95)}), {len(figure.samples)}")
            ratio = loads[(events, snapshots, PEER)].median / loads[(events, snapshots, OURS)].median
            lines.append(f"| {events:,} | {'yes' if snapshots else 'no'} | {' | '.join(cells)} | {_times(ratio)} |")
    return lines


def _targets(appends: dict, loads: dict, sizes: list[int]) -> list[str]:
    def met(ok: bool) -> str:
        return "met" if ok else "**missed**"

    lines = ["| target | figure | |", "|---|---:|---|"]
    if appends:
        raw_rate = 1 / appends[(1, RAW)].median
        for system, label in ((OURS, "positioner included"), (OURS_APPEND_ONLY, "append only")):
            rate = 1 / appends[(1, system)].median
            lines.append(
                f"| single-event append >= 60 % of the raw insert rate, {label} | {rate / raw_rate:.0%}"
                f" | {met(rate >= 0.6 * raw_rate)} |"
            )
    if loads:
        largest, smallest = max(sizes), min(sizes)
        big_snap = loads[(largest, True, OURS)].median
        small_snap = loads[(smallest, True, OURS)].median
        big_replay = loads[(largest, False, OURS)].median
        lines += [
            f"| {largest:,} events with snapshots load within 2x of {smallest:,} | {_times(big_snap / small_snap)}"
            f" | {met(big_snap <= 2 * small_snap)} |",
            f"| {largest:,} events with snapshots load >= 20x faster than their full replay"
            f" | {_times(big_replay / big_snap)} | {met(big_replay >= 20 * big_snap)} |",
        ]
    for size in sorted({size for size, _ in appends}):
        ratio = appends[(size, PEER)].median / appends[(size, OURS)].median
        lines.append(
            f"| append of {size:,} event{'s' if size > 1 else ''}: this store at least as fast as eventsourcing"
            f" | {_times(ratio)} | {met(ratio >= 1)} |"
        )
    for events in sizes if loads else ():
        for snapshots in (False, True):
            ratio = loads[(events, snapshots, PEER)].median / loads[(events, snapshots, OURS)].median
            lines.append(
                f"| load of {events:,} events {'with' if snapshots else 'without'} snapshots: this store at least"
                f" as fast as eventsourcing | {_times(ratio)} | {met(ratio >= 1)} |"
            )
    return lines


def write_into(path: Path, block: str) -> None:
    """Replace the previous figures in ``path`` (or put them at the end of the Event
    store section); the rest of the file stays as it is."""
    text = path.read_text()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + block + tail
    elif SECTION_END in text:
        text = text.replace(SECTION_END, block + "\n\n" + SECTION_END, 1)
    else:
        raise ValueError(f"{path} has no {SECTION_END!r} marker to write before")
    path.write_text(text)
