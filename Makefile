# `make run` serves the app on http://127.0.0.1:8000 (SQLite unless DATABASE_URL is set);
# `make test` runs every test against Postgres and Redis (DATABASE_URL, REDIS_URL).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

# Defaults for the test suite; set them empty (make test DATABASE_URL= REDIS_URL=) for
# the embedded SQLite + in-process mode.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/finance
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1

.PHONY: run test test-sqlite lint bench venv clean fuzz audit audit-ci k8s-rules dashboards rules drills drill-rolling-restart drill-sigterm drill-flag-rollback drill-postgres-restart chaos

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

run: venv
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	@echo
	@DEBUG=$${DEBUG:-1} $(BIN)/python manage.py seed_demo
	@echo "Serving http://127.0.0.1:8000/admin/  (API /api/v1/, docs /api/docs/); Ctrl-C stops."
	@echo
	DEBUG=$${DEBUG:-1} $(BIN)/uvicorn config.asgi:application --host 127.0.0.1 --port 8000 --no-access-log

test: venv
	DATABASE_URL=$${DATABASE_URL-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL-$(TEST_REDIS_URL)} \
	SECRET_KEY=$${SECRET_KEY:-test-only-secret-key} $(BIN)/pytest $(PYTEST_ARGS)

test-sqlite: venv
	DATABASE_URL= REDIS_URL= SECRET_KEY=test-only-secret-key $(BIN)/pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# A long schemathesis run against the API and the domain's property tests, with fresh
# randomness each time (docs/security.md); the suite runs a short, fixed one.
FUZZ_MAX_EXAMPLES ?= 200
fuzz: venv
	DATABASE_URL=$${DATABASE_URL-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL-$(TEST_REDIS_URL)} \
	SECRET_KEY=$${SECRET_KEY:-test-only-secret-key} FUZZ_MAX_EXAMPLES=$(FUZZ_MAX_EXAMPLES) FUZZ_RANDOM=1 \
	HYPOTHESIS_PROFILE=deep $(BIN)/pytest -p no:cacheprovider -q \
	tests/security/test_schema_fuzzing.py tests/finance/domain $(PYTEST_ARGS)

# Known vulnerabilities in the pinned requirements (pip-audit); fails if it cannot look
# every package up. audit-ci (CI) says so and passes when the service is unreachable.
audit: venv
	$(BIN)/python -m ops.dependency_audit --strict

audit-ci: venv
	$(BIN)/python -m ops.dependency_audit

# The benchmark's peer (the eventsourcing library) lives in its own virtualenv, so that
# the library and its dependencies stay out of the service's; both run on psycopg 3.
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed-$(shell cat requirements-bench.txt | cksum | cut -d' ' -f1)
# Dropped and created afresh by every run; the name must end in _bench.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/finance_bench

$(BENCH_STAMP): requirements-bench.txt
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -r requirements-bench.txt
	rm -f $(BENCH_VENV)/.installed-*
	touch $@

bench: venv $(BENCH_STAMP)
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) BENCH_PEER_PYTHON=$(BENCH_VENV)/bin/python \
	SECRET_KEY=bench-only-secret-key $(BIN)/python -m loadtest.bench_eventstore $(BENCH_ARGS)
	SECRET_KEY=bench-only-secret-key DATABASE_URL= REDIS_URL= $(BIN)/python -m loadtest.bench_rollout --write

# Regenerate the PrometheusRule in the production manifest from the rules file.
k8s-rules: venv
	$(BIN)/python -m ops.prometheus_rule

# Drills: gunicorn with the production config on loopback, under load (docs/reliability.md).
# DRILL_REDIS_URL names a Redis database reserved for drills: each drill empties it.
DRILL_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/finance_drill
DRILL_REDIS_URL ?= redis://127.0.0.1:6379/15
DRILL_ENV = DATABASE_URL=$(DRILL_DATABASE_URL) REDIS_URL=$(DRILL_REDIS_URL)

drills: drill-rolling-restart drill-sigterm drill-flag-rollback drill-postgres-restart

drill-rolling-restart: venv
	$(DRILL_ENV) timeout 300 $(BIN)/python -m loadtest.drills.rolling_restart

drill-sigterm: venv
	$(DRILL_ENV) timeout 300 $(BIN)/python -m loadtest.drills.sigterm

drill-flag-rollback: venv
	$(DRILL_ENV) timeout 300 $(BIN)/python -m loadtest.drills.flag_rollback

drill-postgres-restart: venv
	REDIS_URL=$(DRILL_REDIS_URL) timeout 300 $(BIN)/python -m loadtest.drills.postgres_restart

# Chaos (docs/reliability.md): contention, kill -9, Redis down, Postgres restarted, tampering.
# Each scenario runs its own Postgres cluster, Redis and gunicorn on loopback; the table
# goes into docs/reliability.md. About 5 minutes; each scenario has a time limit.
chaos: venv
	timeout 900 $(BIN)/python -m loadtest.chaos $(CHAOS_ARGS)

clean:
	rm -rf $(VENV) $(BENCH_VENV) var staticfiles .pytest_cache .ruff_cache .hypothesis test-artifacts

# Regenerate the Grafana dashboards (JSON) from k8s/monitoring/dashboards/generate.py.
dashboards: venv
	$(BIN)/python k8s/monitoring/dashboards/generate.py

# Check and unit-test the alerting rules and the Alertmanager routes (needs promtool, amtool).
rules:
	promtool check rules k8s/monitoring/prometheus-rules.yaml
	promtool test rules k8s/monitoring/tests/*.test.yaml
	amtool check-config k8s/monitoring/alertmanager.yaml

# Load tests (docs/performance.md "Load test"): the production stack on loopback under the
# locust scenario; reports and plots go to docs/performance/. The database (its name must
# end in _loadtest) is dropped and created afresh, the Redis database emptied.
USERS ?= 100
LOADTEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/finance_loadtest
LOADTEST_REDIS_URL ?= redis://127.0.0.1:6379/6
LOADTEST_ENV = LOADTEST_DATABASE_URL=$(LOADTEST_DATABASE_URL) LOADTEST_REDIS_URL=$(LOADTEST_REDIS_URL)

.PHONY: loadtest saturation soak
loadtest: venv
	$(LOADTEST_ENV) timeout 1800 $(BIN)/python -m loadtest.run loadtest --users $(USERS) --duration $(or $(DURATION),2m) \
		--command "make loadtest USERS=$(USERS) DURATION=$(or $(DURATION),2m)"

saturation: venv
	$(LOADTEST_ENV) timeout 1800 $(BIN)/python -m loadtest.run saturation --command "make saturation"

soak: venv
	$(LOADTEST_ENV) timeout 7200 $(BIN)/python -m loadtest.run soak --users $(USERS) --duration $(or $(DURATION),30m) \
		--command "make soak USERS=$(USERS) DURATION=$(or $(DURATION),30m)"
