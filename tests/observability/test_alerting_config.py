"""The alerting rules and Alertmanager routes, checked and unit-tested by the real
Prometheus tools (promtool, amtool from the Debian packages that .ci/run installs)."""

import re
import subprocess

import pytest
import yaml

from tests.observability import monitoring_files as files


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, cwd=files.ROOT)


def test_promtool_accepts_the_rules():
    result = run("promtool", "check", "rules", str(files.RULES))

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(files.alerts()) + len(files.recording_rules())} rules found" in result.stdout


def test_promtool_unit_tests_pass():
    result = run("promtool", "test", "rules", *map(str, files.RULE_TESTS))

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(files.RULE_TESTS)


def expected_alerts() -> dict[str, list[list]]:
    """alertname -> the exp_alerts lists the unit tests give for it."""
    expected: dict[str, list[list]] = {}
    for path in files.RULE_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                expected.setdefault(check["alertname"], []).append(check.get("exp_alerts") or [])
    return expected


@pytest.mark.parametrize("alert", [rule["alert"] for rule in files.alerts()])
def test_every_alert_is_tested_firing_and_silent(alert):
    cases = expected_alerts().get(alert, [])

    assert any(cases), f"{alert}: no unit test expects it to fire"
    assert [] in cases, f"{alert}: no unit test expects it to stay silent"


@pytest.mark.parametrize("rule", files.alerts(), ids=lambda rule: rule["alert"])
def test_every_alert_says_how_bad_what_and_where_the_runbook_is(rule):
    runbook_headings = {
        re.sub(r"[^a-z0-9-]", "", line[4:].strip().lower().replace(" ", "-"))
        for line in files.RUNBOOK.read_text().split("## Alerts", 1)[1].splitlines()
        if line.startswith("### ")
    }

    assert rule["labels"]["severity"] in {"page", "ticket"}
    assert rule["annotations"]["summary"]
    assert rule["annotations"]["description"]
    path, anchor = rule["annotations"]["runbook_url"].split("#")
    assert path == "docs/runbook.md"
    assert anchor == rule["alert"].lower()
    assert anchor in runbook_headings


def test_runbook_alert_sections_have_meaning_impact_diagnosis_and_mitigation():
    section = files.RUNBOOK.read_text().split("## Alerts", 1)[1].split("<!-- alerts end -->")[0]
    per_alert = re.split(r"^### ", section, flags=re.M)[1:]

    assert sorted(part.splitlines()[0].strip() for part in per_alert) == sorted(r["alert"] for r in files.alerts())
    for part in per_alert:
        for heading in ("**Meaning**", "**Impact**", "**Diagnosis**", "**Mitigation**"):
            assert heading in part, (part.splitlines()[0], heading)
        assert "```" in part, f"{part.splitlines()[0]}: diagnosis without a command or query"


def test_amtool_accepts_the_alertmanager_configuration():
    result = run("amtool", "check-config", str(files.ALERTMANAGER))

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (["severity=page", "alertname=FinanceDatabaseDown"], "pagerduty,tickets"),
        (["severity=ticket", "alertname=FinanceSnapshotLagHigh"], "tickets"),
        (["alertname=Watchdog"], "tickets"),
    ],
)
def test_pages_go_to_pagerduty_and_everything_else_to_tickets(labels, receivers):
    result = run("amtool", "config", "routes", "test", f"--config.file={files.ALERTMANAGER}", *labels)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == receivers


def test_pagerduty_uses_events_api_v2_with_the_key_from_a_secret_file():
    config = yaml.safe_load(files.ALERTMANAGER.read_text())
    (pagerduty,) = [r for r in config["receivers"] if r["name"] == "pagerduty"]

    (target,) = pagerduty["pagerduty_configs"]
    assert target["routing_key_file"].startswith("/etc/alertmanager/secrets/")
    assert "service_key" not in target and "routing_key" not in target
