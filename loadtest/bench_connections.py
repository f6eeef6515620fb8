"""What a request pays for its database connection: ``--rounds`` times, take a connection
through Django, run two ``SELECT 1`` and give it back (``connection.close()``, what the
end of a request does), with the settings of the environment (``DB_POOL`` on or off).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/finance SECRET_KEY=x \\
    DB_POOL=0 python -m loadtest.bench_connections
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=500)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    def request() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
            cursor.execute("SELECT 1")
            cursor.fetchone()
        connection.close()

    request()  # warm
    times = []
    for _ in range(args.rounds):
        began = time.perf_counter()
        request()
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    pooled = "pool" in connection.settings_dict["OPTIONS"]
    sys.stdout.write(
        f"{'pool' if pooled else 'no pool'}: median {statistics.median(times):.2f} ms,"
        f" p90 {times[int(len(times) * 0.9)]:.2f} ms over {args.rounds} rounds\n"
    )


if __name__ == "__main__":
    main()
