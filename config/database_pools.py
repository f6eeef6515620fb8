"""Database connection pools across ``fork``.

Django keeps one psycopg_pool ``ConnectionPool`` per database alias and process, in a
class attribute. A forked child inherits it as it was: its connections are the parent's
sockets, and its worker threads did not survive the fork. A child that took a connection
from it would talk over the parent's socket; one that closed it would end the parent's
sessions (closing a connection sends Postgres a goodbye). Neither may happen, so every
child forgets the pools it inherited, right after the fork and before any code of its own
runs, and opens its own on first use.

Who forks here: the gunicorn master (its metrics server measures through Django, and it
forks a new worker whenever one is recycled) and the Celery worker's main process (prefork
children). ``register()`` runs once, when the ``config`` package is imported.
"""

import os
import sys

# The parent's pools, kept alive in the child but never used: letting them be collected
# would join threads and touch locks that only exist in the parent.
_inherited: list = []
_registered = False


def forget_inherited_pools() -> None:
    """Drop, without closing, every pool and pooled connection this process inherited."""
    backend = sys.modules.get("django.db.backends.postgresql.base")
    if backend is None:
        return  # Postgres was never loaded: no pool can exist.
    pools = backend.DatabaseWrapper._connection_pools
    _inherited.extend(pools.values())
    pools.clear()
    from django.db import connections

    # A connection the forking thread had checked out belongs to the parent's pool too.
    for wrapper in connections.all(initialized_only=True):
        if wrapper.connection is not None and getattr(wrapper.connection, "_pool", None) is not None:
            _inherited.append(wrapper.connection)
            wrapper.connection = None


def register() -> None:
    global _registered
    if not _registered:
        os.register_at_fork(after_in_child=forget_inherited_pools)
        _registered = True


def close_pools() -> None:
    """Close this process's pools and the connections in them, for a process that queries
    only now and then, outside any request (the gunicorn master's metrics server: it then
    holds no connection between its queries, and no pool when it forks), or one that is
    about to exit (its sessions end now rather than when the sockets are dropped)."""
    if "django.db.backends.postgresql.base" not in sys.modules:
        return  # Postgres was never loaded: no pool to close.
    from django.db import connections

    for wrapper in connections.all():
        if hasattr(wrapper, "close_pool"):
            wrapper.close_pool()
