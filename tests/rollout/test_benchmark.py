import gc

from loadtest import bench_rollout


def test_the_benchmark_times_every_scenario_and_reports_each_against_the_target(monkeypatch):
    monkeypatch.setattr(bench_rollout, "REQUESTS", 2100)
    monkeypatch.setattr(bench_rollout, "ROUNDS", 2)

    results = bench_rollout.measure()
    text = bench_rollout.report(results)

    assert gc.isenabled()
    assert [name for name, *_ in results] == list(bench_rollout.SCENARIOS)
    for name, cpu, wall, collection in results:
        assert len(cpu) == len(wall) == 2
        assert collection >= 0
        row = next(line for line in text.splitlines() if line.startswith(f"| {name} |"))
        best_p99 = min(p99 for _, p99 in cpu)
        assert row.split(" | ")[2] == f"{best_p99:.1f}"
        assert row.endswith("| yes |") == (best_p99 <= bench_rollout.TARGET_P99_US)
