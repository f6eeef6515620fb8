"""The Kubernetes manifests as the cluster would receive them: production as written,
staging as kustomize renders it."""

import shutil
import subprocess
from functools import cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ROOT / "k8s" / "finance-service-production.yaml"
STAGING = ROOT / "k8s" / "staging"
# The Kubernetes version the clusters run; kubernetes-validate checks against its schemas.
KUBERNETES_VERSION = "1.33.0"
# prometheus-operator's custom resources: no schema in kubernetes-validate, checked
# structurally by the policy tests instead.
CUSTOM_RESOURCE_GROUPS = ("monitoring.coreos.com/",)


def production_text() -> str:
    return PRODUCTION.read_text()


@cache
def staging_text() -> str:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise RuntimeError("kubectl (for kustomize) is required to render k8s/staging")
    return subprocess.run(
        [kubectl, "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(STAGING)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


RENDERINGS = {"production": production_text, "staging": staging_text}


def documents(environment: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(RENDERINGS[environment]()) if doc]


def is_custom_resource(doc: dict) -> bool:
    return doc["apiVersion"].startswith(CUSTOM_RESOURCE_GROUPS)


def find(docs: list[dict], kind: str, name: str) -> dict:
    matches = [doc for doc in docs if doc["kind"] == kind and doc["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def workloads(docs: list[dict]) -> list[dict]:
    return [doc for doc in docs if doc["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")]


def pod_spec(workload: dict) -> dict:
    if workload["kind"] == "CronJob":
        return workload["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return workload["spec"]["template"]["spec"]


def containers(workload: dict) -> list[dict]:
    spec = pod_spec(workload)
    return spec.get("initContainers", []) + spec["containers"]
