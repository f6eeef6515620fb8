"""Every core object of every manifest passes kubernetes-validate --strict against the
pinned Kubernetes version; the tool itself rejects what the cluster would."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.deploy.manifests import KUBERNETES_VERSION, RENDERINGS, documents, is_custom_resource

KUBERNETES_VALIDATE = Path(sys.executable).parent / "kubernetes-validate"


def validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(KUBERNETES_VALIDATE), "--strict", "--kubernetes-version", KUBERNETES_VERSION, str(path)],
        capture_output=True,
        text=True,
    )


def write_core_objects(docs: list[dict], path: Path) -> int:
    core = [doc for doc in docs if not is_custom_resource(doc)]
    path.write_text(yaml.safe_dump_all(core, sort_keys=False))
    return len(core)


@pytest.mark.parametrize("environment", sorted(RENDERINGS))
def test_every_core_object_passes_strict_validation(environment, tmp_path):
    # given
    path = tmp_path / f"{environment}.yaml"
    count = write_core_objects(documents(environment), path)

    # when
    result = validate(path)

    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" passed for resource ") == count


def test_strict_validation_rejects_an_unknown_field(tmp_path):
    # given: a field the Deployment schema does not have, as a typo would produce
    docs = documents("production")
    web = next(doc for doc in docs if doc["kind"] == "Deployment")
    web["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"periodSeconds": 5}
    path = tmp_path / "broken.yaml"
    write_core_objects([web], path)

    # when
    result = validate(path)

    # then
    assert result.returncode != 0
    assert "readinesProbe" in result.stdout + result.stderr


def test_custom_resources_are_the_only_objects_left_to_structural_checks():
    kinds = sorted({doc["kind"] for doc in documents("production") if is_custom_resource(doc)})

    assert kinds == ["PrometheusRule", "ServiceMonitor"]
