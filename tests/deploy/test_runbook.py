"""The runbook's procedures name only things that exist: management commands, workloads
of the manifest, make targets. A rename elsewhere breaks this test, not an incident."""

import re

from django.core.management import get_commands

from tests.deploy.manifests import ROOT, documents

RUNBOOK = ROOT / "docs" / "runbook.md"


def procedures() -> str:
    text = RUNBOOK.read_text()
    return text[text.index("## Procedures") : text.index("<!-- procedures end -->")]


def test_every_management_command_in_the_procedures_exists():
    named = set(re.findall(r"(?:\bmanage|manage\.py) ([a-z_]+)", procedures()))

    assert {"verify_events", "verify_projections", "rebuild_projections", "snapshot", "issue_token"} <= named
    assert named <= set(get_commands()), named - set(get_commands())


def test_every_workload_in_the_procedures_is_in_the_manifest():
    named = set(re.findall(r"\b(?:deploy|job|hpa)/(finance-[a-z-]+)", procedures()))
    named |= set(re.findall(r"\b(?:deploy|hpa|job) (finance-[a-z-]+)", procedures()))
    defined = {doc["metadata"]["name"] for doc in documents("production")}

    assert {"finance-web", "finance-worker", "finance-beat", "finance-migrate"} <= named
    assert named <= defined, named - defined


def test_every_make_target_in_the_procedures_exists():
    named = set(re.findall(r"`make ([a-z0-9-]+)`", procedures()))
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z0-9-]+):", makefile, flags=re.MULTILINE))

    assert named
    assert named <= targets, named - targets
