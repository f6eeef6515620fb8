"""Rotating SECRET_KEY keeps what the old key signed valid while the old key is listed in
SECRET_KEY_FALLBACKS (docs/runbook.md, "Rotate secrets")."""

import os
import secrets
import subprocess
import sys

from tests.deploy.manifests import ROOT

OLD_KEY = secrets.token_urlsafe(64)
NEW_KEY = secrets.token_urlsafe(64)


def run_django(code: str, **environment: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "SECRET_KEY_FALLBACKS")}
    env.update(environment)
    script = f"import django; django.setup(); from django.core import signing; {code}"
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def signed_with_old_key() -> str:
    result = run_django("print(signing.dumps('session'))", SECRET_KEY=OLD_KEY)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_value_signed_with_the_old_key_is_accepted_through_the_fallback():
    token = signed_with_old_key()

    result = run_django(f"print(signing.loads({token!r}))", SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=OLD_KEY)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "session"


def test_without_the_fallback_the_old_signature_is_refused():
    token = signed_with_old_key()

    result = run_django(f"signing.loads({token!r})", SECRET_KEY=NEW_KEY)

    assert result.returncode != 0
    assert "BadSignature" in result.stderr
