# mapgate: two entry points on a fresh machine with Python 3.11.
#   make demo   set up, check every sample map, remediate one, then start the service and upload one
#   make test   set up (system packages too, when run as root) and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8765

.PHONY: setup system-deps demo test lint bench

$(BIN)/mapgate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/python -m compileall -q compliance api  # as pip does for a wheel; editable installs skip it
	touch $(BIN)/mapgate

setup: $(BIN)/mapgate

# Chromium drives the audit-report tests; PostgreSQL backs the audit-store tests.
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then \
		if [ "$$(id -u)" = "0" ]; then \
			export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq chromium postgresql curl >/dev/null; \
		else echo "make test needs chromium, postgresql and curl (apt-get install chromium postgresql curl)" >&2; exit 1; fi; \
	fi

demo: setup
	@for f in sample_maps/*.gpkg sample_maps/*.tif; do \
		$(BIN)/mapgate check $$f --format text; echo "exit code $$?"; echo; \
	done
	@echo "== signed verdicts: a throw-away key, every sample signed, one verified offline =="
	@keys=$$(mktemp -d) && trap 'rm -rf "$$keys"' EXIT && \
		$(BIN)/mapgate keys generate --out $$keys/key && \
		for f in sample_maps/*.gpkg sample_maps/*.tif; do \
			$(BIN)/mapgate check $$f --format json --sign $$keys/key/mapgate-signing.key \
				--attestation $$keys/$$(basename $$f).intoto.json > /dev/null; \
			echo "signed $$f (exit $$?)"; \
		done && \
		$(BIN)/mapgate verify $$keys/kr_5k_buildings.gpkg.intoto.json sample_maps/kr_5k_buildings.gpkg \
			--key $$keys/key/mapgate-signing.pub && echo "verify exit code $$?"
	@echo "== remediation: the deny sample, its conditions applied, re-checked; the chain signed =="
	@out=$$(mktemp -d) && trap 'rm -rf "$$out"' EXIT && \
		$(BIN)/mapgate keys generate --out $$out/key > /dev/null && \
		$(BIN)/mapgate remediate sample_maps/kr_5k_buildings.gpkg --out $$out/kr_5k_buildings.remediated.gpkg \
			--sign $$out/key/mapgate-signing.key --attestation $$out/derivative.intoto.json; \
		echo "remediate exit code $$? (the derivative's verdict)"; \
		$(BIN)/mapgate verify $$out/derivative.intoto.json $$out/kr_5k_buildings.remediated.gpkg \
			--key $$out/key/mapgate-signing.pub --original $$out/derivative.intoto.original.json \
			| tail -3 && echo "verify --original exit code $$?"
	@echo "== the service, on loopback, in development mode (no keys) =="
	@$(BIN)/mapgate serve --dev --port $(PORT) > /tmp/mapgate-demo-serve.log 2>&1 & echo $$! > .demo-serve.pid
	@for i in $$(seq 1 50); do curl -sf http://127.0.0.1:$(PORT)/readyz >/dev/null && break; sleep 0.2; done
	@echo "== the page: http://127.0.0.1:$(PORT)/ (run 'mapgate serve --dev --port $(PORT)' to keep it up) =="
	curl -s -F file=@sample_maps/kr_5k_buildings.gpkg -F destination=US http://127.0.0.1:$(PORT)/v1/checks \
		| $(BIN)/python -c 'import json,sys; v=json.load(sys.stdin); print(json.dumps({k: v[k] for k in ("id","verdict","conditions")} | {"findings": [(f["rule_id"], f["effect"], f["reference"]) for f in v["findings"]]}, indent=2))' 
	@kill $$(cat .demo-serve.pid) && rm -f .demo-serve.pid

test: system-deps setup
	MAPGATE_TEST_PG_URL="$$(bash .ci/postgres.sh)" $(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check compliance api tests bench
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/bench_check.py
