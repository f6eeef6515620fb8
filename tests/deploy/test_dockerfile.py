"""The image, checked from its Dockerfile (no container engine here): multi-stage, slim,
non-root, no compilers at run time, static files collected, and an exec-form command that
starts gunicorn with the repository's config and the ASGI application."""

import re
import runpy
from pathlib import Path

from django.conf import settings
from dockerfile_parse import DockerfileParser

from tests.deploy import image

COMPILERS = re.compile(r"\b(build-essential|gcc|g\+\+|clang|make|libpq-dev|python3-dev)\b")


def load_gunicorn_config(monkeypatch, path: Path) -> dict:
    # The config sets a default PROMETHEUS_MULTIPROC_DIR; keep it out of this process.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "/unused")
    return runpy.run_path(str(path))


def test_build_and_runtime_are_separate_stages_on_a_pinned_slim_python():
    parents = DockerfileParser(path=str(image.DOCKERFILE)).parent_images

    assert len(image.stages()) >= 2
    assert all(re.fullmatch(r"python:3\.11\.\d+-slim-\w+", parent) for parent in parents), parents


def test_runtime_stage_installs_no_compiler():
    runs = [i["value"] for i in image.final_stage() if i["instruction"] == "RUN"]

    assert not [run for run in runs if COMPILERS.search(run)]


def test_runtime_stage_takes_only_the_built_virtualenv_and_app_from_the_build_stage():
    copies = [i["value"] for i in image.final_stage() if i["instruction"] in ("COPY", "ADD")]

    assert copies
    assert all(value.startswith("--from=build ") for value in copies), copies


def test_static_files_are_collected_in_the_build_stage():
    runs = " ".join(i["value"] for i in image.stages()[0] if i["instruction"] == "RUN")

    assert "manage.py collectstatic --noinput" in runs


def test_runtime_user_is_numeric_and_not_root():
    users = [i["value"] for i in image.final_stage() if i["instruction"] == "USER"]

    assert users, "the runtime stage must switch to an unprivileged USER"
    uid, _, gid = users[-1].partition(":")
    # Numeric, so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
    assert uid.isdigit() and int(uid) > 0
    assert gid == "" or (gid.isdigit() and int(gid) > 0)


def test_no_instruction_after_user_runs_as_root():
    instructions = [i["instruction"] for i in image.final_stage()]
    after_user = instructions[len(instructions) - instructions[::-1].index("USER") :]

    assert "RUN" not in after_user


def test_command_is_exec_form_gunicorn_with_the_repository_config_and_asgi_app():
    argv = image.cmd()

    assert argv[0] == "gunicorn"
    config = Path(argv[argv.index("--config") + 1])
    assert (image.ROOT / config).is_file()
    module, _, attribute = argv[-1].partition(":")
    assert f"{module}.{attribute}" == settings.ASGI_APPLICATION


def test_no_shell_form_entrypoint():
    entrypoints = [i for i in image.final_stage() if i["instruction"] == "ENTRYPOINT"]

    assert all(image.exec_form(entrypoint) for entrypoint in entrypoints)


def test_gunicorn_config_serves_asgi_with_the_production_knobs(monkeypatch):
    config = load_gunicorn_config(monkeypatch, image.ROOT / "config" / "gunicorn.conf.py")

    assert config["worker_class"] == "uvicorn_worker.UvicornWorker"
    assert config["worker_tmp_dir"] == "/dev/shm"
    assert config["graceful_timeout"] > 0
    assert config["timeout"] > 0
    for hook in ("on_starting", "when_ready", "post_fork", "child_exit"):
        assert callable(config[hook]), hook


def test_gunicorn_config_reads_workers_and_bind_from_the_environment(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "7")
    monkeypatch.setenv("GUNICORN_BIND", "127.0.0.1:9999")

    config = load_gunicorn_config(monkeypatch, image.ROOT / "config" / "gunicorn.conf.py")

    assert config["workers"] == 7
    assert config["bind"] == ["127.0.0.1:9999"]


def test_image_environment_matches_the_exposed_ports():
    environment = image.final_environment()
    exposed = {port for i in image.final_stage() if i["instruction"] == "EXPOSE" for port in i["value"].split()}

    assert environment["GUNICORN_BIND"].rpartition(":")[2] in exposed
    assert environment["METRICS_PORT"] in exposed
    assert environment["PROMETHEUS_MULTIPROC_DIR"]
    assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings"


def test_dockerignore_keeps_repository_state_and_local_secrets_out():
    ignored = set((image.ROOT / ".dockerignore").read_text().split())

    assert {".git", ".venv", ".env", "var", "tests"} <= ignored
