# Renfang: `make demo` sets everything up and serves the demo sub-district; `make test` runs the tests.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PYTHON := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
SCALE ?= 1
PG_URL ?= postgres://postgres@127.0.0.1:5432/renfang
# The demo is served as a deployment would be: DEBUG off (the app's own error pages), gunicorn, hashed static files.
DEMO_ENV := RENFANG_DEBUG=0

.PHONY: demo test test-sqlite test-postgres venv assets browser postgres migrate check-deploy lint serve prod bench clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	@command -v $(PY) >/dev/null || { echo "需要 Python 3.11 / Python 3.11 is required"; exit 1; }
	test -x $(PYTHON) || $(PY) -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

static/vendor/.built: frontend/package.json frontend/package-lock.json frontend/copy-assets.mjs
	cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build
	touch $@

assets: static/vendor/.built

migrate: venv assets
	$(PYTHON) manage.py migrate --noinput -v0

demo: migrate
	$(PYTHON) manage.py demo --scale $(SCALE)
	$(PYTHON) manage.py circle_demo --network
	$(PYTHON) manage.py basemap
	$(PYTHON) manage.py demo_accounts > /dev/null
	$(PYTHON) manage.py quality_demo
	$(PYTHON) manage.py fieldwork_demo
	$(PYTHON) manage.py cases_demo
	$(PYTHON) manage.py dedup_index
	$(PYTHON) manage.py mediation_demo
	$(PYTHON) manage.py open311_demo
	$(PYTHON) manage.py resources_demo
	$(PYTHON) manage.py meetings_demo
	$(PYTHON) manage.py activities_demo
	$(PYTHON) manage.py volunteers_demo
	$(PYTHON) manage.py cockpit_demo
	$(DEMO_ENV) $(PYTHON) manage.py collectstatic --noinput -v0
	$(PYTHON) manage.py demo_accounts --url http://$(HOST):$(PORT)/
	@echo ""
	@echo "  Renfang 演示街道 / demo sub-district:  http://$(HOST):$(PORT)/"
	@echo ""
	@# The background worker (task queue + periodic jobs) runs beside the web server and stops with it.
	$(DEMO_ENV) $(PYTHON) manage.py worker & WORKER=$$!; trap "kill $$WORKER 2>/dev/null" EXIT INT TERM; \
	  $(DEMO_ENV) $(BIN)/gunicorn renfang.wsgi --bind $(HOST):$(PORT) --workers 2 --timeout 120 --access-logfile -

serve: migrate
	$(PYTHON) manage.py worker & WORKER=$$!; trap "kill $$WORKER 2>/dev/null" EXIT INT TERM; \
	  $(BIN)/gunicorn renfang.wsgi --bind $(HOST):$(PORT) --workers 2

# The production stack on this machine: PostgreSQL, production settings, gunicorn + worker, nginx with TLS in front
# (deploy/prod.sh; a server uses deploy/'s systemd units and nginx site, docs/operations.md).
prod: venv assets browser postgres
	bash deploy/prod.sh

# Debian's chromium and CJK fonts for the browser tests, nginx for the production stack and pgbouncer for its
# pooling test (root, as on CI), and PostgreSQL when it is down.
APT_PACKAGES := chromium fonts-noto-cjk nginx-light pgbouncer
browser:
	@if ! test -x /usr/bin/chromium || ! fc-list 2>/dev/null | grep -qi "noto.*cjk" || ! command -v nginx >/dev/null \
	    || ! test -x /usr/sbin/pgbouncer; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; fi; fi

# The read-replica tests (tests/test_replica.py) make a streaming replica with pg_basebackup, which needs a
# replication entry in pg_hba.conf: the narrowest one is added when there is none (said, not silent) — the local
# socket, the OS user postgres only (peer) — and the configuration reloaded.
HBA_REPLICATION := local replication postgres peer
postgres:
	@if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
	  for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; fi
	@hba=$$(psql -h 127.0.0.1 -U postgres -Atc "SHOW hba_file" 2>/dev/null); \
	if [ -n "$$hba" ] && [ -w "$$hba" ] && ! psql -h 127.0.0.1 -U postgres -Atc "SELECT 1 FROM pg_hba_file_rules \
	    WHERE type = 'local' AND 'replication' = ANY(database)" | grep -q 1; then \
	  echo "pg_hba.conf ($$hba): + '$(HBA_REPLICATION)' (the replica tests' pg_basebackup)"; \
	  echo "$(HBA_REPLICATION)" >> "$$hba" && psql -h 127.0.0.1 -U postgres -Atqc "SELECT pg_reload_conf()" >/dev/null; fi

# The SQLite and PostgreSQL runs go side by side (each with its own var/ directory): on two cores this takes
# about half the time of one after the other. PostgreSQL's output is shown when both have ended.
test: venv assets browser postgres
	@mkdir -p var/test-postgres var/test-sqlite test-artifacts
	@echo "PostgreSQL run in the background (test-artifacts/postgres.log); SQLite run here:"
	@RENFANG_VAR_DIR=var/test-postgres RENFANG_BROWSER_TESTS=0 DATABASE_URL=$(PG_URL) $(BIN)/pytest -q -p no:cacheprovider --durations=25 \
	  > test-artifacts/postgres.log 2>&1 & PG=$$!; \
	RENFANG_VAR_DIR=var/test-sqlite env -u DATABASE_URL $(BIN)/pytest -q -p no:cacheprovider --durations=25; SQ=$$?; \
	wait $$PG; PGRC=$$?; echo ""; echo "--- PostgreSQL ---"; tail -n 90 test-artifacts/postgres.log; \
	echo "SQLite: exit $$SQ, PostgreSQL: exit $$PGRC"; test $$SQ = 0 && test $$PGRC = 0
	$(MAKE) --no-print-directory check-deploy

test-sqlite: venv assets
	env -u DATABASE_URL $(BIN)/pytest -q -p no:cacheprovider

test-postgres: venv assets postgres
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -q -p no:cacheprovider

check-deploy: venv
	RENFANG_PRODUCTION=1 DJANGO_SECRET_KEY=check-deploy-$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
	  RENFANG_ALLOWED_HOSTS=renfang.example.gov.cn RENFANG_KEYS='{"current":"k1","keys":{"k1":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},"index_key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}' \
	  $(PYTHON) manage.py check --deploy --fail-level WARNING

lint: venv
	$(BIN)/ruff check .

clean:
	rm -rf var static/vendor frontend/node_modules
