"""The dashboards are generated from Python (k8s/monitoring/dashboards/generate.py); the
committed JSON must be exactly what it generates, and every panel must query something.
Whether each query returns data is shown in test_prometheus_integration.py."""

import json

import pytest

from tests.observability import monitoring_files as files

generator = files.dashboard_generator()


@pytest.mark.parametrize("name", sorted(generator.DASHBOARDS))
def test_committed_json_is_what_the_generator_writes(name):
    committed = (files.DASHBOARDS / f"{name}.json").read_text()

    assert committed == generator.render(name), f"run `make dashboards` and commit {name}.json"


def test_no_dashboard_json_without_a_generator():
    assert {path.stem for path in files.dashboard_files()} == set(generator.DASHBOARDS)


@pytest.mark.parametrize("path", files.dashboard_files(), ids=lambda path: path.name)
def test_every_panel_has_distinct_queries_on_the_chosen_data_source(path):
    board = json.loads(path.read_text())

    assert board["uid"].startswith("finance-")
    for panel in board["panels"]:
        if panel["type"] == "row":
            continue
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert panel["targets"], panel["title"]
        assert len(set(ref_ids)) == len(ref_ids) and all(ref_ids), panel["title"]
        assert all(target["expr"].strip() for target in panel["targets"]), panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"
