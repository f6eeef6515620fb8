"""What the ORM cannot express: the writing transaction's id as a column default, the
triggers that make events immutable, and the feed's single state row."""

from django.db import migrations

POSTGRES = [
    # xid8 of the writing transaction, as bigint (it fits for the lifetime of a cluster).
    "ALTER TABLE finance_event ALTER COLUMN transaction_id SET DEFAULT (pg_current_xact_id()::text::bigint)",
    "ALTER TABLE finance_event ALTER COLUMN transaction_id SET NOT NULL",
    """
    CREATE FUNCTION finance_event_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'finance_event is append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$
    """,
    "CREATE TRIGGER finance_event_immutable BEFORE UPDATE OR DELETE ON finance_event"
    " FOR EACH ROW EXECUTE FUNCTION finance_event_immutable()",
    "CREATE TRIGGER finance_feed_immutable BEFORE UPDATE OR DELETE ON finance_feed"
    " FOR EACH ROW EXECUTE FUNCTION finance_event_immutable()",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER finance_feed_immutable ON finance_feed",
    "DROP TRIGGER finance_event_immutable ON finance_event",
    "DROP FUNCTION finance_event_immutable()",
]

SQLITE = [
    f"""
    CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}
    WHEN NOT finance_events_mutable()
    BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END
    """
    for table in ("finance_event", "finance_feed")
    for op in ("UPDATE", "DELETE")
]
SQLITE_REVERSE = [
    f"DROP TRIGGER {table}_no_{op.lower()}"
    for table in ("finance_event", "finance_feed")
    for op in ("UPDATE", "DELETE")
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    return run


def create_feed_state(apps, schema_editor):
    apps.get_model("finance", "FeedState").objects.get_or_create(id=1)


class Migration(migrations.Migration):
    dependencies = [("finance", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRES_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
        migrations.RunPython(create_feed_state, migrations.RunPython.noop),
    ]
