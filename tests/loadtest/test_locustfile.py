"""The load scenario runs: locust headless for a few seconds against the service on a
loopback port, every user class taking part, without a failed request."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.asgi_server import serving

ROOT = Path(__file__).resolve().parents[2]


def issue_token(username: str, role: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("issue_token", username, "--role", role, "--create", stdout=out)
    return out.getvalue().strip()


@pytest.mark.django_db(transaction=True)
def test_the_locust_scenario_runs_against_the_service_without_a_failure(tmp_path):
    # Two months: seed_demo closes its first month, and the scenario posts today.
    call_command("seed_demo", "--months", "2", stdout=open(os.devnull, "w"))  # noqa: SIM115
    environment = {
        **os.environ,
        "LOADTEST_ACCOUNTANT_TOKEN": issue_token("smoke-accountant", "accountant"),
        "LOADTEST_VIEWER_TOKEN": issue_token("smoke-viewer", "viewer"),
        # No think time: every user class gets through its actions in a few seconds,
        # even on a busy machine.
        "LOADTEST_THINK": "0",
    }
    with serving() as base_url:
        finished = subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "--locustfile=loadtest/locustfile.py",
                "--headless",
                f"--host={base_url}",
                "--users=10",
                "--spawn-rate=10",
                "--run-time=10s",
                f"--csv={tmp_path / 'smoke'}",
                "--only-summary",
                "--stop-timeout=5",
                "--loglevel=WARNING",
            ],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    with (tmp_path / "smoke_stats.csv").open() as stats:
        rows = {row["Name"]: row for row in csv.DictReader(stats)}

    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    assert rows["Aggregated"]["Failure Count"] == "0", finished.stderr[-3000:]
    # The API clients' whole flow ran (it ends by reading the invoice back, paid).
    assert {"create invoice", "issue invoice", "record payment", "allocate payment", "invoice"} <= rows.keys()
    # Accountants and viewers read reports and lists.
    assert rows.keys() & {"trial balance", "balance sheet", "income statement", "ar aging"}
    assert rows.keys() & {"journal entries", "invoices", "invoices issued", "payments", "accounts"}
