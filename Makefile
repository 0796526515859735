# feedsync: the targets a newcomer needs, in the order they are used.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
NODE_STAMP := node_modules/.installed
# checkov pins its own dependencies (as the SAM CLI does): it lives in its own venv.
CHECKOV_VENV    := .venv-checkov
CHECKOV_VERSION ?= 3.3.30
CHECKOV_STAMP   := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
# External CSV test data from PyPI (tests/unit/formats/test_external_csv_packaged_suites.py):
# csvkit's source distribution, whose examples/ are the files its own tests read.
TEST_DATA       := build/test-data
CSVKIT_VERSION  := 2.2.0
CSVKIT_STAMP    := $(TEST_DATA)/csvkit-$(CSVKIT_VERSION)/.installed
# The merchant's dashboard: dashboard/src -> dashboard/dist (esbuild; served by feedsync serve).
DASHBOARD         := dashboard/dist/index.html
DASHBOARD_SOURCES := $(shell find dashboard/src -name '*.js') dashboard/index.html \
                     dashboard/styles.css dashboard/build.mjs

.PHONY: install dashboard demo serve test lint validate test-servers pytest bench build deploy clean

install: $(STAMP) $(NODE_STAMP) $(CHECKOV_STAMP) $(DASHBOARD) $(CSVKIT_STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[local,dev]'
	rm -f $(VENV)/.installed-*; touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# pip's own client, the source distribution only (never installed: its files are read as data).
$(CSVKIT_STAMP): $(STAMP)
	mkdir -p $(TEST_DATA)
	$(PY) -m pip download --quiet --no-deps --no-binary :all: --dest $(TEST_DATA) \
	  csvkit==$(CSVKIT_VERSION)
	tar -xzf $(TEST_DATA)/csvkit-$(CSVKIT_VERSION).tar.gz -C $(TEST_DATA)
	touch $@

## dashboard: build the merchant's dashboard (dashboard/dist, served at / by feedsync serve)
dashboard: $(DASHBOARD)

$(DASHBOARD): $(NODE_STAMP) $(DASHBOARD_SOURCES)
	node dashboard/build.mjs

$(CHECKOV_STAMP):
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)
	rm -f $(CHECKOV_VENV)/.installed-*; touch $@

## demo: one sync of the bundled sample feed on the embedded local stack
demo: $(STAMP)
	$(BIN)/feedsync demo

## serve: the local stack until Ctrl-C (REST API on :8080, sandbox store on :8081)
serve: $(STAMP) $(DASHBOARD)
	$(BIN)/feedsync serve

## test: lint, types, template and ASL validation, then the whole pytest suite
test: install lint validate pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# checkov fails on any failed check; a deliberate exception is a Metadata checkov skip with
# its reason in template.yaml. --skip-download: no call to the Prisma Cloud API.
validate: $(STAMP) $(NODE_STAMP) $(CHECKOV_STAMP)
	$(BIN)/cfn-lint template.yaml
	npx --no-install asl-validator --json-path statemachine/sync.asl.json
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation \
	  --skip-download --compact --quiet

# The source tests talk to real OpenSSH, FTP(S) and nginx servers: install what is missing.
test-servers:
	bash scripts/test-servers.sh

# The suite in parallel (pytest-xdist), one test file per worker at a time (a file's
# module fixtures, such as its local stack, are set up once): a worker per core, at most 4
# (each holds its own moto and browser). Two runs: the unit tests' `mock_aws` resets moto's
# in-process backends when it ends, which would wipe the tables of a local stack that a
# worker's integration session holds in the same process.
PYTEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)
pytest: $(STAMP) $(DASHBOARD) $(CSVKIT_STAMP) test-servers
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadfile tests/unit
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadfile --ignore=tests/unit

## bench: parse+match+diff of 1,000,000 rows against a 1,000,000-variant index (and what
## checking each changed row against the platform's constraints adds), then
## a ~100 MB CSV and a 100,000-row XLSX fetched over local HTTP (nginx) and parsed, then
## the store connectors against their doubles (requests / minimum, rate vs quota, points;
## Amazon: feeds for 100,000 changed listings on a virtual clock),
## preview / apply all / direct run of one file on each platform's double (writes counted at
## the double: preview 0, apply = direct),
## a ~400 MB upload through the whole run on the local stack, load on the local stack
## (1,000 profiles fire on one minute: once each, locks released; 100 concurrent Starts),
## then GET /runs/{id}/changes paged through 1,000,000 changes (pages/s, the API's peak RSS),
## then what missing: zero_stock / disable cost against a 1,000,000-variant index
## and known-bad items: a first run finds 1 refused per 1,000, the second sets them apart
## (requests / minimum at each double, first and second run),
## create mode: 10,000 new variants created at each double (requests / minimum, target 1.05),
## then the dashboard's home page with 500 profiles in headless Chromium: API calls per
## refresh (target 1) and time to render every tile (median of 5)
bench: $(STAMP) $(DASHBOARD)
	$(PY) bench/bench_reconcile.py
	$(PY) bench/bench_validation.py
	$(PY) bench/bench_sources.py
	$(PY) bench/bench_connectors.py
	$(PY) bench/bench_amazon.py
	$(PY) bench/bench_review.py
	$(PY) bench/bench_upload.py
	$(PY) bench/bench_load.py
	$(PY) bench/bench_changes.py
	$(PY) bench/bench_missing.py
	$(PY) bench/bench_known_bad.py
	$(PY) bench/bench_create.py
	$(PY) bench/bench_dashboard.py

## cost: the cost model (bench/cost_model.py): on each platform's double, a store's setup, a
## 10,000-row / 1,000-change run of an automatic profile fired by the scheduler, the
## unchanged-file check after it, the next file's run (--repeat: the fleet prices these), a
## preview of the file after and its apply (--apply), each
## platform's next file traced for memory and an apply traced (select) (~15 min); then
## 1,000,000 rows / 100,000 changes (the store's import read from the double in process, not
## measured): on BigCommerce with its review and memory pass (the next file traced: parse,
## match, finalize, notify alone; an apply: select; ~90 min on this 2-core machine), on
## COST_1M_PLATFORMS counts only
## (WooCommerce ~40 min; Shopify ~11 min, its store imported over HTTP by its bulk query);
## then bench/cost_memory.py (the parse step on every
## format and the catalog index, each alone in a fresh process, ~10 min) into the same state.
## Metered on the local stack (state transitions, Lambda GB-s and memory, DynamoDB units, S3
## requests and bytes, calls), priced at docs/aws_prices.toml; rewrites docs/COSTS.md's tables
## after each step. Not in `make test`.
COST_1M_PLATFORMS ?= woocommerce,shopify
COST_STATE := .feedsync/cost-state.pkl
.PHONY: cost
cost: $(STAMP)
	mkdir -p .feedsync && rm -f $(COST_STATE)
	PYTHONPATH=layers/common:local:. $(PY) bench/cost_model.py --sizes 10k --apply --repeat \
	  --state $(COST_STATE) --write
	PYTHONPATH=layers/common:local:. $(PY) bench/cost_model.py --sizes 1M --apply \
	  --platforms bigcommerce --state $(COST_STATE) --write
	PYTHONPATH=layers/common:local:. $(PY) bench/cost_model.py --sizes 1M --no-memory \
	  --platforms $(COST_1M_PLATFORMS) --state $(COST_STATE) --write
	PYTHONPATH=layers/common:local:. $(PY) bench/cost_memory.py --rows 200000,2000000 \
	  --json-cap --state $(COST_STATE)
	PYTHONPATH=layers/common:local:. $(PY) bench/cost_model.py --from-state \
	  --state $(COST_STATE) --write

## build / deploy: AWS SAM (the CLI lives in its own venv: it pins its own boto3).
## sam build runs layers/common/Makefile and functions/Makefile (BuildMethod: makefile): the
## layer's requirements are fetched as the CPython 3.12 manylinux aarch64 wheels by pip, so no
## python3.12, no Docker; then scripts/check_sam_build.py checks .aws-sam/build and prints sizes.
SAM_VENV := .venv-sam
SAM      := $(SAM_VENV)/bin/sam
SAM_CLI_VERSION ?= 1.170.0

build:
	test -x $(SAM) || ($(PYTHON) -m venv $(SAM_VENV) && \
	  $(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check aws-sam-cli==$(SAM_CLI_VERSION))
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} SAM_CLI_TELEMETRY=0 $(SAM) validate --lint
	SAM_CLI_TELEMETRY=0 PIP="$(CURDIR)/$(SAM_VENV)/bin/python -m pip" $(SAM) build
	$(SAM_VENV)/bin/python scripts/check_sam_build.py .aws-sam/build template.yaml

# After the stack, the dashboard's files go to its bucket (scripts/publish_dashboard.py reads
# the stack's outputs; it prints DashboardUrl).
deploy: build $(DASHBOARD)
	.venv-sam/bin/sam deploy
	$(PY) scripts/publish_dashboard.py --stack-name $${STACK_NAME:-feedsync}

clean:
	rm -rf $(VENV) .venv-sam $(CHECKOV_VENV) node_modules .aws-sam .feedsync .pytest_cache .mypy_cache .ruff_cache
