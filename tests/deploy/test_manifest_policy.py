"""Policy for the Kubernetes manifests, production and staging alike: what every
container must declare, how the web tier survives rollouts and drains, and that the
pieces agree with each other, with the image and with the gunicorn config."""

import re

import pytest

from ops import prometheus_rule
from tests.deploy import image
from tests.deploy.manifests import RENDERINGS, containers, documents, find, pod_spec, workloads

ENVIRONMENTS = sorted(RENDERINGS)
PUBLIC_PATHS = ("/api/", "/admin/", "/static/")
INTERNAL_PATHS = ("/metrics", "/healthz", "/readyz")


@pytest.fixture(params=ENVIRONMENTS)
def docs(request):
    return documents(request.param)


@pytest.fixture(params=ENVIRONMENTS)
def every_container(request):
    docs = documents(request.param)
    return [(workload, container) for workload in workloads(docs) for container in containers(workload)]


def config_map(docs) -> dict:
    return find(docs, "ConfigMap", "finance-config")["data"]


def web(docs) -> dict:
    return find(docs, "Deployment", "finance-web")


def web_container(docs) -> dict:
    return next(c for c in pod_spec(web(docs))["containers"] if c["name"] == "web")


def test_every_container_has_requests_and_limits(every_container):
    for workload, container in every_container:
        resources = container.get("resources", {})
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources.get(kind, {})), (workload["metadata"]["name"], container["name"])


def test_every_container_runs_unprivileged_on_a_read_only_root(every_container):
    for workload, container in every_container:
        pod = pod_spec(workload).get("securityContext", {})
        own = container.get("securityContext", {})
        where = (workload["metadata"]["name"], container["name"])
        assert own.get("runAsNonRoot", pod.get("runAsNonRoot")) is True, where
        assert own.get("runAsUser", pod.get("runAsUser", 0)) != 0, where
        assert own.get("readOnlyRootFilesystem") is True, where
        assert own.get("allowPrivilegeEscalation") is False, where
        assert own.get("capabilities", {}).get("drop") == ["ALL"], where
        assert pod.get("seccompProfile", {}).get("type") == "RuntimeDefault", where


def test_every_container_has_writable_tmp_and_metrics_dirs(every_container):
    metrics_dir = image.final_environment()["PROMETHEUS_MULTIPROC_DIR"]
    for workload, container in every_container:
        volumes = {v["name"]: v for v in pod_spec(workload)["volumes"]}
        mounts = {m["mountPath"]: volumes[m["name"]] for m in container.get("volumeMounts", [])}
        for path in ("/tmp", metrics_dir):
            assert "emptyDir" in mounts.get(path, {}), (workload["metadata"]["name"], container["name"], path)


def test_every_image_is_pinned_and_the_same(every_container):
    images = {container["image"] for _, container in every_container}

    assert len(images) == 1, images
    (only,) = images
    assert re.search(r"(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$", only), only
    assert not only.endswith(":latest")


def test_every_long_running_container_has_a_liveness_probe(docs):
    for workload in (doc for doc in docs if doc["kind"] == "Deployment"):
        for container in pod_spec(workload)["containers"]:
            assert "livenessProbe" in container, workload["metadata"]["name"]


def test_every_container_with_a_port_has_startup_readiness_and_liveness_probes(every_container):
    serving = [(w, c) for w, c in every_container if c.get("ports")]

    assert serving
    for _, container in serving:
        assert {"startupProbe", "readinessProbe", "livenessProbe"} <= set(container)


def test_web_probes_hit_health_endpoints_with_an_allowed_host(docs):
    container = web_container(docs)
    allowed = config_map(docs)["ALLOWED_HOSTS"].split(",")
    paths = {name: container[name]["httpGet"]["path"] for name in ("startupProbe", "readinessProbe", "livenessProbe")}

    assert paths == {"startupProbe": "/healthz", "readinessProbe": "/readyz", "livenessProbe": "/healthz"}
    for name in paths:
        headers = {h["name"]: h["value"] for h in container[name]["httpGet"]["httpHeaders"]}
        assert headers["Host"] in allowed, name


def test_web_rolls_without_losing_capacity(docs):
    deployment = web(docs)

    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert pod_spec(deployment)["topologySpreadConstraints"]


def test_production_runs_three_web_replicas():
    assert web(documents("production"))["spec"]["replicas"] == 3


def test_termination_grace_outlasts_pre_stop_and_gunicorn_graceful_timeout(docs):
    container = web_container(docs)
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    graceful = int(config_map(docs)["GUNICORN_GRACEFUL_TIMEOUT"])

    assert pre_stop > 0
    assert pod_spec(web(docs))["terminationGracePeriodSeconds"] > pre_stop + graceful


def test_web_serves_the_ports_of_the_image(docs):
    environment = image.final_environment()
    ports = {p["name"]: p["containerPort"] for p in web_container(docs)["ports"]}

    assert ports["http"] == int(environment["GUNICORN_BIND"].rpartition(":")[2])
    assert ports["metrics"] == int(environment["METRICS_PORT"])


def test_beat_is_a_single_replica_recreated_never_rolled(docs):
    beat = find(docs, "Deployment", "finance-beat")

    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    autoscaled = [doc["spec"]["scaleTargetRef"]["name"] for doc in docs if doc["kind"] == "HorizontalPodAutoscaler"]
    assert "finance-beat" not in autoscaled


def test_worker_liveness_is_a_celery_ping_of_itself(docs):
    worker = find(docs, "Deployment", "finance-worker")
    (container,) = pod_spec(worker)["containers"]
    probe = " ".join(container["livenessProbe"]["exec"]["command"])

    assert "inspect ping" in probe
    assert "celery@$HOSTNAME" in probe
    # Warm shutdown (Celery's answer to SIGTERM) needs time to finish running tasks.
    assert pod_spec(worker)["terminationGracePeriodSeconds"] >= 60


def test_hpa_and_pdb_agree_with_the_web_deployment(docs):
    deployment = web(docs)
    hpa = find(docs, "HorizontalPodAutoscaler", "finance-web")
    pdb = find(docs, "PodDisruptionBudget", "finance-web")

    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "finance-web"}
    assert hpa["spec"]["minReplicas"] == deployment["spec"]["replicas"]
    assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    assert pdb["spec"]["selector"] == deployment["spec"]["selector"]
    # A drain can always evict one pod, and never takes the service below one.
    assert 1 <= pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]


def test_production_hpa_never_goes_below_three():
    assert find(documents("production"), "HorizontalPodAutoscaler", "finance-web")["spec"]["minReplicas"] >= 3


def test_migrations_run_in_a_job_and_web_pods_wait_for_them(docs):
    job = find(docs, "Job", "finance-migrate")
    (migrate,) = pod_spec(job)["containers"]
    (wait,) = pod_spec(web(docs))["initContainers"]

    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert pod_spec(job)["restartPolicy"] == "Never"
    assert "manage.py migrate --check" in " ".join(wait["command"])


def test_secret_is_a_template_without_values(docs):
    secrets = [doc for doc in docs if doc["kind"] == "Secret"]

    assert secrets
    for secret in secrets:
        assert secret["metadata"]["labels"]["secret-template"] == "true"
        assert "data" not in secret
        assert all(value.startswith("<set-from-secret-store") for value in secret["stringData"].values())


def test_secret_holds_what_settings_require_outside_the_config_map(docs):
    (secret,) = [doc for doc in docs if doc["kind"] == "Secret"]

    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= set(secret["stringData"])
    assert not {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"} & set(config_map(docs))


def test_ingress_routes_only_public_paths(docs):
    ingress = find(docs, "Ingress", "finance-web")
    routed = [p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]

    assert set(routed) == set(PUBLIC_PATHS)
    for internal in INTERNAL_PATHS:
        assert not [path for path in routed if internal.startswith(path) or f"{internal}/".startswith(path)]
    assert ingress["spec"]["tls"]


def test_namespace_denies_by_default_and_opens_metrics_only_to_prometheus(docs):
    policies = {doc["metadata"]["name"]: doc["spec"] for doc in docs if doc["kind"] == "NetworkPolicy"}
    metrics_rules = [
        rule
        for rule in policies["finance-web-ingress"]["ingress"]
        if any(port["port"] == "metrics" for port in rule["ports"])
    ]

    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    (rule,) = metrics_rules
    (source,) = rule["from"]
    assert source["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "monitoring"}


def test_every_object_lives_in_the_namespace(docs):
    (namespace,) = [doc["metadata"]["name"] for doc in docs if doc["kind"] == "Namespace"]

    for doc in docs:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == namespace, (doc["kind"], doc["metadata"]["name"])


def test_service_monitor_scrapes_the_metrics_port_of_the_web_service(docs):
    monitor = find(docs, "ServiceMonitor", "finance-web")
    service = find(docs, "Service", "finance-web")
    (endpoint,) = monitor["spec"]["endpoints"]
    service_ports = {port["name"]: port for port in service["spec"]["ports"]}

    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"]["matchNames"] == [service["metadata"]["namespace"]]
    assert service_ports[endpoint["port"]]["targetPort"] == "metrics"
    assert endpoint["path"] == "/metrics"
    assert service["spec"]["selector"] == web(docs)["spec"]["selector"]["matchLabels"]


def test_prometheus_rule_is_well_formed(docs):
    rule = find(docs, "PrometheusRule", "finance-service")

    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert isinstance(rule["spec"]["groups"], list)
    for group in rule["spec"]["groups"]:
        assert group["name"] and group["rules"], group.get("name")
        for entry in group["rules"]:
            assert ("alert" in entry) != ("record" in entry), entry
            assert entry["expr"], entry


def test_prometheus_rule_is_generated_from_the_rules_file():
    rule = find(documents("production"), "PrometheusRule", "finance-service")

    assert rule["spec"]["groups"] == prometheus_rule.rule_groups(), (
        "k8s/monitoring/prometheus-rules.yaml changed: run `make k8s-rules`"
    )


def inventory(docs) -> list[tuple[str, str]]:
    return sorted((doc["kind"], doc["metadata"]["name"]) for doc in docs if doc["kind"] != "Namespace")


def test_staging_has_the_objects_of_production_in_its_own_namespace_and_host():
    production = documents("production")
    staging = documents("staging")

    assert inventory(staging) == inventory(production)
    assert web(staging)["metadata"]["namespace"] != web(production)["metadata"]["namespace"]
    assert config_map(staging)["ALLOWED_HOSTS"] != config_map(production)["ALLOWED_HOSTS"]
