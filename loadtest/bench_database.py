"""Throwaway Postgres databases for the benchmarks and load runs: dropped and created
afresh on every run, so each run starts from the same empty tables. Only a database whose
name ends in the run's suffix (``_bench``, ``_loadtest``, ...) is ever dropped."""

from dataclasses import dataclass
from urllib.parse import unquote, urlparse

import psycopg
from psycopg import sql


def recreate_database(database_url: str, *, suffix: str, create: bool = True) -> None:
    """Drop the database ``database_url`` names, closing its sessions, and unless
    ``create`` is false create it empty. Refuses a name that does not end in ``suffix``."""
    parsed = urlparse(database_url)
    name = parsed.path.lstrip("/")
    if not name.endswith(suffix):
        raise SystemExit(f"refusing to drop {name!r}: the name must end in {suffix}")
    connection = psycopg.connect(database_url.replace(parsed.path, "/postgres", 1), autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            if create:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()


@dataclass(frozen=True)
class BenchDatabase:
    url: str
    host: str
    port: int
    user: str
    password: str
    name: str

    @classmethod
    def from_url(cls, url: str) -> "BenchDatabase":
        """Raises ValueError unless ``url`` names a Postgres database ending in ``_bench``."""
        parsed = urlparse(url)
        name = parsed.path.lstrip("/")
        if parsed.scheme not in ("postgres", "postgresql"):
            raise ValueError(f"the benchmark needs Postgres, not {parsed.scheme or 'nothing'}: {url!r}")
        if not name.endswith("_bench"):
            raise ValueError(f"refusing to drop database {name!r}: its name must end in _bench")
        return cls(
            url=url,
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 5432,
            user=unquote(parsed.username or "postgres"),
            password=unquote(parsed.password or ""),
            name=name,
        )

    def connect(self, *, database: str | None = None, autocommit: bool = False):
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=database or self.name,
            autocommit=autocommit,
        )

    def recreate(self) -> None:
        """Drop the database (closing its sessions) and create it empty."""
        recreate_database(self.url, suffix="_bench")
