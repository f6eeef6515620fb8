"""Where the drills run from the test suite: always what production runs, a real
Postgres (in a database of their own next to the suite's) and Redis (a database reserved
for drills, which they empty: never the suite's)."""

import os
from urllib.parse import urlparse

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/finance"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"


def drill_database_url() -> str:
    suite = os.environ.get("DATABASE_URL", "")
    base = suite if urlparse(suite).scheme in ("postgres", "postgresql") else DEFAULT_SERVER
    url = urlparse(base)
    return url._replace(path=f"{url.path}_drill").geturl()


def drill_redis_url() -> str:
    return os.environ.get("DRILL_REDIS_URL") or DEFAULT_REDIS
