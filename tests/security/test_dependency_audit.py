"""How ``make audit`` judges a pip-audit report (the report itself needs the network)."""

from ops.dependency_audit import verdict

CLEAN = {"name": "django", "version": "5.2.19", "vulns": []}
VULNERABLE = {
    "name": "requests",
    "version": "2.0.0",
    "vulns": [{"id": "GHSA-x", "fix_versions": ["2.32.0"], "description": "..."}],
}
UNKNOWN = {"name": "celery", "skip_reason": "Dependency not found on PyPI and could not be audited: celery (5.7.0)"}


def test_a_known_vulnerability_fails_and_names_the_fix():
    status, lines = verdict({"dependencies": [CLEAN, VULNERABLE], "fixes": []}, strict=False)
    assert status == 1
    assert "VULNERABLE requests==2.0.0: GHSA-x (fixed in 2.32.0)" in lines


def test_a_clean_report_passes():
    assert verdict({"dependencies": [CLEAN], "fixes": []}, strict=True)[0] == 0


def test_packages_not_looked_up_fail_only_a_strict_audit_and_are_always_said():
    report = {"dependencies": [UNKNOWN], "fixes": []}
    strict_status, _ = verdict(report, strict=True)
    lenient_status, lines = verdict(report, strict=False)
    assert (strict_status, lenient_status) == (2, 0)
    assert any(line.startswith("NOT AUDITED") for line in lines)


def test_no_report_at_all_fails_only_a_strict_audit_and_is_said():
    assert verdict(None, strict=True)[0] == 2
    status, lines = verdict(None, strict=False)
    assert status == 0
    assert lines[0].startswith("NOT AUDITED")
