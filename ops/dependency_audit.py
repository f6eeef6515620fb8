"""``make audit``: pip-audit over the pinned requirements (runtime and dev).

Fails on any known vulnerability that is not in ``IGNORED`` (each with its reason, see
docs/security.md). A package the vulnerability service could not look up is reported;
with ``--strict`` (``make audit``) that fails too, since an audit that looked nothing up
proves nothing. Without it (CI) an unreachable service, or a pip-audit that could not
run at all, is said plainly (``NOT AUDITED``) and passes, so that a machine without
access to the vulnerability data does not block every change.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt")
# Vulnerability id → why it does not apply or cannot be fixed yet. Empty: none known.
IGNORED: dict[str, str] = {}


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def run_pip_audit() -> dict | None:
    """pip-audit's JSON report, or None (with its error output shown) if it made none."""
    command = [sys.executable, "-m", "pip_audit", "--format", "json", "--progress-spinner", "off"]
    for requirements in REQUIREMENTS:
        command += ["-r", str(ROOT / requirements)]
    for vulnerability in IGNORED:
        command += ["--ignore-vuln", vulnerability]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (fixed argv)
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(done.stderr[-2000:])
        return None


def verdict(report: dict | None, *, strict: bool) -> tuple[int, list[str]]:
    """(exit status, lines to print) for a pip-audit JSON report (None: it made none)."""
    if report is None:
        return (2 if strict else 0), ["NOT AUDITED: pip-audit produced no report (its errors are above)"]
    dependencies = report["dependencies"]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if "skip_reason" in d]
    lines = []
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed release"
            lines.append(f"VULNERABLE {dependency['name']}=={dependency['version']}: {vuln['id']} (fixed in {fixed})")
    audited = len(dependencies) - len(skipped)
    lines.append(f"pip-audit: {audited} of {len(dependencies)} pinned packages looked up, {len(vulnerable)} vulnerable")
    if skipped:
        lines.append(f"not looked up ({len(skipped)}), first: {skipped[0]['skip_reason']}")
    if vulnerable:
        return 1, lines
    if skipped and strict:
        return 2, lines
    if skipped and not audited:
        lines.append("NOT AUDITED: the vulnerability service answered for no package from this machine")
    return 0, lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="fail when a package could not be looked up")
    args = parser.parse_args()
    status, lines = verdict(run_pip_audit(), strict=args.strict)
    for line in lines:
        say(line)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
