"""Rebuild the read models from the event log, or rebuild them into scratch tables and
compare with the live ones.

The scratch tables are temporary tables with the live tables' names: both Postgres
(``pg_temp`` comes first in the search path) and SQLite (``temp`` before ``main``)
resolve an unqualified name to them, so the very same projection code fills them. The
live tables are read, never locked or written, while verifying.
"""

from collections.abc import Callable

from django.db import connection, transaction

from finance.domain.invoice import Invoice
from finance.domain.payment import Payment
from finance.eventstore import store
from finance.repository import to_domain_event
from ledger import models, projections

# Children after parents for inserts; deletes go the other way.
READ_MODELS = [
    models.Account,
    models.ClosedPeriod,
    models.JournalEntry,
    models.JournalLine,
    models.AccountDailyTotal,
    models.Payment,
    models.Invoice,
    models.Allocation,
    models.Refund,
]
_STATEFUL = {Invoice.TYPE: Invoice, Payment.TYPE: Payment}
_BATCH = 1000


def replay(progress: Callable[[int], None] | None = None) -> int:
    """Project every event, in commit order, into the tables the names resolve to."""
    aggregates: dict[str, Invoice | Payment] = {}
    batch: list[store.RecordedEvent] = []
    count = 0

    def flush() -> None:
        touched = {event.stream_id for event in batch}
        projections.project(batch, [aggregates[s] for s in touched if s in aggregates])
        batch.clear()

    for event in store.iter_events_in_commit_order():
        cls = _STATEFUL.get(event.stream_type)
        if cls is not None:
            aggregate = aggregates.setdefault(event.stream_id, cls(id=event.stream_id[len(cls.TYPE) + 1 :]))
            aggregate.apply(to_domain_event(event))
            aggregate.version = event.version
        batch.append(event)
        count += 1
        if len(batch) >= _BATCH:
            flush()
        if progress:
            progress(1)
    if batch:
        flush()
    return count


def rebuild(progress: Callable[[int], None] | None = None) -> int:
    """Empty the live read models and replay the whole log into them, atomically."""
    with transaction.atomic():
        for model in reversed(READ_MODELS):
            model.objects.all().delete()
        return replay(progress)


def _columns(model) -> list[str]:
    return [
        connection.ops.quote_name(field.column)
        for field in model._meta.concrete_fields
        if not (field.primary_key and field.get_internal_type() in ("AutoField", "BigAutoField"))
    ]


def _create_scratch_tables(cursor) -> None:
    for model in READ_MODELS:
        table = model._meta.db_table
        if connection.vendor == "postgresql":
            cursor.execute(
                f'CREATE TEMP TABLE "{table}" (LIKE public."{table}" INCLUDING DEFAULTS INCLUDING IDENTITY'
                " INCLUDING CONSTRAINTS INCLUDING INDEXES) ON COMMIT DROP"
            )
            continue
        cursor.execute("SELECT type, sql FROM sqlite_master WHERE tbl_name = %s AND sql IS NOT NULL", [table])
        for kind, ddl in sorted(cursor.fetchall(), key=lambda row: row[0] != "table"):
            if kind == "table":
                cursor.execute(ddl.replace("CREATE TABLE", "CREATE TEMP TABLE", 1))
            else:
                cursor.execute(ddl.replace('INDEX "', 'INDEX temp."', 1))


def _drop_scratch_tables(cursor) -> None:
    if connection.vendor == "sqlite":
        for model in reversed(READ_MODELS):
            cursor.execute(f'DROP TABLE IF EXISTS temp."{model._meta.db_table}"')


def _difference(cursor, model) -> int:
    """Rows in one copy and not the other (counted both ways)."""
    table, columns = model._meta.db_table, ", ".join(_columns(model))
    live, scratch = ("public", "pg_temp") if connection.vendor == "postgresql" else ("main", "temp")
    set_op = "EXCEPT ALL" if connection.vendor == "postgresql" else "EXCEPT"
    differences = 0
    for left, right in ((live, scratch), (scratch, live)):
        cursor.execute(
            f'SELECT COUNT(*) FROM (SELECT {columns} FROM {left}."{table}"'
            f' {set_op} SELECT {columns} FROM {right}."{table}") d'
        )
        differences += cursor.fetchone()[0]
    cursor.execute(f'SELECT (SELECT COUNT(*) FROM {live}."{table}") - (SELECT COUNT(*) FROM {scratch}."{table}")')
    return differences or abs(cursor.fetchone()[0])


def verify(progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Rebuild into scratch tables and compare: {table: rows that differ} (all zero
    when the live read models are exactly what the log says)."""
    with transaction.atomic(), connection.cursor() as cursor:
        _create_scratch_tables(cursor)
        try:
            replay(progress)
            return {model._meta.db_table: _difference(cursor, model) for model in READ_MODELS}
        finally:
            _drop_scratch_tables(cursor)
            transaction.set_rollback(True)
