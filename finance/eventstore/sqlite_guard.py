"""SQLite's half of the immutability triggers.

The triggers on ``finance_event`` call ``finance_events_mutable()``, a function that
exists only on connections this process opened: any other client (the sqlite3 shell,
another program) fails the trigger and so cannot change events either. The function
answers False unless a test fixture flips ``allow_mutation`` to empty the tables.
"""

from django.db.backends.signals import connection_created

allow_mutation = False


def _register(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.create_function("finance_events_mutable", 0, lambda: allow_mutation, deterministic=False)


def install() -> None:
    connection_created.connect(_register, dispatch_uid="finance_sqlite_guard")
