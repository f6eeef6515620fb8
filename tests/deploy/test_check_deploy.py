"""`manage.py check --deploy` is clean with the environment the manifests give a pod: the
ConfigMap (production and staging) plus a Secret-like SECRET_KEY of 50+ random characters."""

import os
import secrets
import subprocess
import sys

import pytest

from tests.deploy.manifests import RENDERINGS, ROOT, documents, find

CLEAN = "System check identified no issues (0 silenced)."


def pod_environment(rendering: str = "production", **overrides: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if key != "DEBUG"}
    environment.update(find(documents(rendering), "ConfigMap", "finance-config")["data"])
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


@pytest.mark.parametrize("rendering", sorted(RENDERINGS))
def test_check_deploy_reports_nothing_with_the_manifest_settings(rendering):
    result = check_deploy(pod_environment(rendering))

    assert result.returncode == 0, result.stdout + result.stderr
    assert CLEAN in result.stdout


def test_check_deploy_catches_a_weakened_setting():
    # given: HSTS switched off, as a careless override would do
    environment = pod_environment(SECURE_HSTS_SECONDS="0")

    # when
    result = check_deploy(environment)

    # then
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr


def test_check_deploy_catches_a_short_secret_key():
    result = check_deploy(pod_environment(SECRET_KEY="too-short"))

    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr
