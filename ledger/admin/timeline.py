"""The event timeline of an aggregate: each event's type, actor, time and what it
changed, read straight from the event store (never from a read model)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from finance.eventstore import store
from ledger.admin.display import amount

TIMELINE_LIMIT = 500


@dataclass(frozen=True)
class Change:
    field: str
    old: str | None
    new: str

    @property
    def is_edit(self) -> bool:
        return self.old is not None


@dataclass(frozen=True)
class TimelineEntry:
    position: int | None
    version: int
    type: str
    actor: str
    recorded_at: datetime
    request_id: str
    changes: list[Change] = field(default_factory=list)


def _journal_lines(lines: list[dict], currency: str) -> str:
    parts = []
    for line in lines:
        line_currency = line.get("currency") or currency
        if Decimal(line.get("debit") or 0) > 0:
            parts.append(f"Dr {line['account']} {amount(line['debit'], line_currency)}")
        else:
            parts.append(f"Cr {line['account']} {amount(line.get('credit'), line_currency)}")
    return "; ".join(parts)


def _invoice_lines(lines: list[dict], currency: str) -> str:
    return "; ".join(
        f"{line['description']}: {line['quantity']} × {amount(line['unit_price'], currency)}"
        f" → {line['account']}" + (f" (tax {line['tax_rate']})" if Decimal(line.get("tax_rate") or 0) else "")
        for line in lines
    )


def _render(key: str, value, currency: str) -> str:
    if key == "lines" and isinstance(value, list):
        if value and "unit_price" in value[0]:
            return _invoice_lines(value, currency)
        return _journal_lines(value, currency)
    if value is None:
        return "—"
    if key in ("amount",) and currency:
        return f"{amount(value, currency)} {currency}"
    return str(value)


def _entity(event: store.RecordedEvent) -> str:
    """Within one stream, the thing an event is about: the chart's events each concern
    one account, the other streams one aggregate."""
    return str(event.data.get("code", "")) if event.stream_type == "chart" else ""


def timeline(
    stream_id: str, *, keep: Callable[[store.RecordedEvent], bool] | None = None, limit: int = TIMELINE_LIMIT
) -> list[TimelineEntry]:
    """The stream's events, newest first, each with what it changed: a field shows
    ``old → new`` when an earlier event of the same thing had set it differently."""
    seen: dict[tuple[str, str], str] = {}
    currency = ""
    entries: list[TimelineEntry] = []
    for event in store.read_stream(stream_id):
        currency = str(event.data.get("currency") or currency)
        entity = _entity(event)
        changes = []
        for key, value in sorted(event.data.items()):
            rendered = _render(key, value, currency)
            previous = seen.get((entity, key))
            seen[(entity, key)] = rendered
            if previous == rendered:
                continue
            changes.append(Change(field=key.replace("_", " "), old=previous, new=rendered))
        if keep is None or keep(event):
            entries.append(
                TimelineEntry(
                    position=event.position,
                    version=event.version,
                    type=event.type,
                    actor=str(event.metadata.get("actor", "")),
                    recorded_at=event.recorded_at,
                    request_id=str(event.metadata.get("request_id", "")),
                    changes=changes,
                )
            )
    entries.reverse()
    return entries[:limit]
