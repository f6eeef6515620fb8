"""The rollout metrics as Prometheus scrapes them, checked by Prometheus's own promtool."""

import shutil
import subprocess

import pytest

from rollout import registry

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.rollout.urls")]


def metric_name(line: str) -> str:
    # "# HELP name …" / "# TYPE name …" name their family third; samples start with it.
    return line.split(" ")[2] if line.startswith("#") else line.split("{")[0].split(" ")[0]


def rollout_families(exposition: str) -> str:
    """Only the rollout families: the other apps' metrics are theirs to check."""
    return "".join(f"{line}\n" for line in exposition.splitlines() if metric_name(line).startswith("rollout_"))


def test_rollout_metrics_pass_promtool(client, make_flag, change_flag):
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) is needed; .ci/run installs it"
    make_flag("beta", percentage="50")
    client.get("/labs/status/200", secure=True)
    registry.registry.refresh()  # the tick adds the tally to rollout_decisions_total

    exposition = client.get("/metrics").content.decode()
    families = rollout_families(exposition)
    checked = subprocess.run([promtool, "check", "metrics"], input=families, capture_output=True, text=True)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert 'rollout_decisions_total{cohort="' in families
    assert 'rollout_flag_percentage{flag="beta"} 50.0' in families
    assert "# TYPE rollout_ramp_rollbacks_total counter" in families
