"""Posting and reversing journal entries."""

import uuid
from dataclasses import dataclass
from datetime import date as Date

from django.conf import settings

from finance.domain.errors import FieldError, RuleViolation
from finance.domain.journal import JournalEntry, LineInput
from finance.services.unit_of_work import commit, load_books, load_existing, run

BATCH_MAX = 1000


@dataclass(frozen=True)
class EntryInput:
    date: Date
    description: str
    currency: str
    lines: list[LineInput]
    reference: str = ""


def _post(entry_id: str, item: EntryInput, chart, periods) -> JournalEntry:
    return JournalEntry.post(
        id=entry_id,
        date=item.date,
        description=item.description,
        reference=item.reference,
        currency=item.currency,
        lines=item.lines,
        chart=chart,
        periods=periods,
        control_accounts=frozenset({settings.FINANCE_RECEIVABLE_ACCOUNT}),
    )


def journal_entry_post(
    *, date: Date, description: str, currency: str, lines: list[LineInput], reference: str = "", actor: str
) -> JournalEntry:
    item = EntryInput(date=date, description=description, currency=currency, lines=lines, reference=reference)
    entry_id = str(uuid.uuid4())

    def command() -> JournalEntry:
        chart, periods = load_books()
        entry = _post(entry_id, item, chart, periods)
        commit([entry], actor=actor)
        return entry

    return run(command)


def journal_entries_post_batch(*, entries: list[EntryInput], actor: str) -> list[str]:
    """Post up to 1,000 entries, all or nothing; a 422 names every bad entry by index."""
    if not 0 < len(entries) <= BATCH_MAX:
        raise RuleViolation.on("entries", f"a batch holds 1-{BATCH_MAX} entries")
    ids = [str(uuid.uuid4()) for _ in entries]

    def command() -> list[str]:
        chart, periods = load_books()
        posted, errors = [], []
        for index, (entry_id, item) in enumerate(zip(ids, entries, strict=True)):
            try:
                posted.append(_post(entry_id, item, chart, periods))
            except RuleViolation as violation:
                errors += [FieldError(f"entries[{index}].{e.field}", e.message) for e in violation.errors]
        if errors:
            raise RuleViolation(f"{len({e.field.split('.')[0] for e in errors})} entries cannot be posted", errors)
        commit(posted, actor=actor)
        return ids

    return run(command)


def journal_entry_reverse(
    *, entry_id: str, date: Date, reason: str, if_match: int | None = None, actor: str
) -> JournalEntry:
    """Post the reversing entry and mark the original reversed, atomically."""
    reversal_id = str(uuid.uuid4())

    def command() -> JournalEntry:
        chart, periods = load_books()
        entry = load_existing(JournalEntry, entry_id, if_match=if_match)
        reversal = entry.reverse(reversal_id=reversal_id, date=date, reason=reason, chart=chart, periods=periods)
        commit([entry, reversal], actor=actor)
        return reversal

    return run(command, if_match=if_match, target=JournalEntry.stream_id_for(entry_id))
