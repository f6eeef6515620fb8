"""The database's own check of double entry: at commit, every journal entry whose lines
changed must balance per currency, whatever code wrote them (Postgres)."""

from django.db import migrations

CREATE = [
    """
    CREATE FUNCTION ledger_entry_balances() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        unbalanced text;
    BEGIN
        SELECT currency INTO unbalanced FROM ledger_journal_line
        WHERE entry_id = NEW.entry_id
        GROUP BY currency HAVING SUM(debit) <> SUM(credit)
        LIMIT 1;
        IF unbalanced IS NOT NULL THEN
            RAISE EXCEPTION 'journal entry % does not balance in %', NEW.entry_id, unbalanced
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END;
    $$
    """,
    "CREATE CONSTRAINT TRIGGER ledger_entry_balances AFTER INSERT OR UPDATE ON ledger_journal_line"
    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_balances()",
]
DROP = [
    "DROP TRIGGER ledger_entry_balances ON ledger_journal_line",
    "DROP FUNCTION ledger_entry_balances()",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
