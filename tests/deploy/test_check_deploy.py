"""`manage.py check --deploy` is clean with the production environment: the ConfigMap of
the production manifest plus a Secret-like SECRET_KEY of 50+ random characters."""

import os
import secrets
import subprocess
import sys

from tests.deploy.manifests import ROOT, documents, find

CLEAN = "System check identified no issues (0 silenced)."


def production_environment(**overrides: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if key != "DEBUG"}
    environment.update(find(documents("production"), "ConfigMap", "finance-config")["data"])
    environment["SECRET_KEY"] = secrets.token_urlsafe(64)
    environment.update(overrides)
    return environment


def check_deploy(environment: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_nothing_with_production_settings():
    result = check_deploy(production_environment())

    assert result.returncode == 0, result.stdout + result.stderr
    assert CLEAN in result.stdout


def test_check_deploy_catches_a_weakened_setting():
    # given: HSTS switched off, as a careless override would do
    environment = production_environment(SECURE_HSTS_SECONDS="0")

    # when
    result = check_deploy(environment)

    # then
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr


def test_check_deploy_catches_a_short_secret_key():
    result = check_deploy(production_environment(SECRET_KEY="too-short"))

    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr
