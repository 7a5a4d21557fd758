# The door to the project (STYLE 15). Nothing here needs PostgreSQL or a NATS server: the
# service and the tests run on an embedded NATS server and SQLite files.
GO        ?= go
DATA      ?= ./data
NATS_LISTEN ?= 127.0.0.1:4222
HTTP      ?= 127.0.0.1:8080
BENCH_EVENTS   ?= 1000000
BENCH_ACCOUNTS ?= 10000
PROMTOOL  ?= promtool
ALERT_RULES      ?= deploy/prometheus/alerts.yml
ALERT_RULES_TEST ?= deploy/prometheus/alerts_test.yml

.PHONY: run test test-cluster bench-cluster validate-deploy fuzz ubl-validation-note rules rules-if-promtool bench bench-billing lint build conformance clean

## run: the service on its embedded defaults (NATS with JetStream in the process, SQLite under ./data)
run:
	$(GO) run ./cmd/ledgerd --data $(DATA) --nats-listen $(NATS_LISTEN) --http $(HTTP)

## test: every test; with LEDGER_TEST_NATS / LEDGER_TEST_POSTGRES set, also those against those servers; alert rules when promtool is on PATH (required if CI is set)
test: rules-if-promtool ubl-validation-note
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...
	@$(MAKE) --no-print-directory fuzz

## test-cluster: three ledgerd on one fresh PostgreSQL database (LEDGER_TEST_POSTGRES, required) and a three-node NATS cluster built from the nats-server module; the leader and a NATS node are killed under load (docs/scaling.md)
test-cluster:
	@test -n "$$LEDGER_TEST_POSTGRES" || { echo "make test-cluster needs LEDGER_TEST_POSTGRES=postgres://…"; exit 2; }
	LEDGER_TEST_CLUSTER=1 $(GO) test -count=1 -timeout 15m -run 'TestCluster_' -v ./cmd/ledgerd/

## bench-cluster: ingestion with 1, 2 and 3 ledgerd on one PostgreSQL (LEDGER_TEST_POSTGRES, required), events/s side by side (docs/scaling.md)
bench-cluster:
	@test -n "$$LEDGER_TEST_POSTGRES" || { echo "make bench-cluster needs LEDGER_TEST_POSTGRES=postgres://…"; exit 2; }
	LEDGER_BENCH_EVENTS=$${LEDGER_BENCH_EVENTS:-500000} $(GO) test -timeout 30m -run '^$$' -bench 'BenchmarkCluster_ingestion' -benchtime 1x -count $${COUNT:-2} ./cmd/ledgerd/

## validate-deploy: the compose files, Kubernetes manifests, alert rules and dashboard (deploy/validate; installs its tools where it can)
validate-deploy:
	deploy/validate

## fuzz: each fuzz target for FUZZTIME (default 10000 inputs; the seeds run with every go test): decoders, parsers, bodies
# A count, not a duration: with a duration, Go's fuzzer can report "context deadline exceeded"
# as a failure when its time runs out during a slow input on a busy machine. A run that still
# ends that way is tried once more; any other failure fails at once.
FUZZTIME ?= 10000x
FUZZ_TARGETS = ledger:FuzzDecodeUsage ledger:FuzzParseInstant ledger:FuzzNewAccount ledger:FuzzNewTopUp \
	ledger:FuzzParseAmount money:FuzzParse pricing:FuzzRateNoPanic pricing:FuzzParsePricesNoPanic
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t#*:}; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -timeout 3m ./$$pkg >/tmp/ledger-fuzz.$$$$ 2>&1 \
			|| { grep -q 'context deadline exceeded' /tmp/ledger-fuzz.$$$$ && ! grep -q 'testdata/fuzz' /tmp/ledger-fuzz.$$$$ \
				&& $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -timeout 3m ./$$pkg >/tmp/ledger-fuzz.$$$$ 2>&1; } \
			|| { cat /tmp/ledger-fuzz.$$$$; rm -f /tmp/ledger-fuzz.$$$$; exit 1; }; \
		echo "fuzz $$pkg $$fn: $$(grep -o 'execs: [0-9]*' /tmp/ledger-fuzz.$$$$ | tail -1)"; rm -f /tmp/ledger-fuzz.$$$$; \
	done

## rules: the Prometheus alert rules, checked and unit-tested (promtool: Debian package prometheus)
rules:
	$(PROMTOOL) check rules $(ALERT_RULES)
	$(PROMTOOL) test rules $(ALERT_RULES_TEST)

# The EN 16931 validation of the UBL exports needs ../shared/validation/validate-ubl, Java and
# Saxon-HE, and the PDF tests pdftotext; without them those tests skip, and go test would say so
# only with -v: said here.
ubl-validation-note:
	@missing=""; \
	[ -x ../shared/validation/validate-ubl ] || [ -n "$$LEDGER_VALIDATE_UBL" ] || missing="$$missing ../shared/validation/validate-ubl"; \
	command -v java >/dev/null 2>&1 || missing="$$missing java"; \
	[ -f "$${SAXON_JAR:-/usr/share/java/Saxon-HE.jar}" ] || missing="$$missing Saxon-HE"; \
	if [ -n "$$missing" ]; then \
		echo "WARNING: the EN 16931 and PEPPOL validation of the UBL invoices is SKIPPED: missing$$missing (apt-get install -y default-jre-headless libsaxonhe-java; ../shared beside the checkout)" >&2; \
	fi; \
	command -v pdftotext >/dev/null 2>&1 || \
		echo "WARNING: reading the PDF invoices back is SKIPPED: pdftotext missing (apt-get install -y poppler-utils)" >&2; \
	command -v chromium >/dev/null 2>&1 || \
		echo "WARNING: the console's browser test is SKIPPED: chromium missing (apt-get install -y chromium)" >&2

# make test runs the rules when promtool is on PATH; without it, a note, except under CI (CI set),
# where a missing promtool fails the build.
rules-if-promtool:
	@if command -v $(PROMTOOL) >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory rules; \
	elif [ -n "$$CI" ]; then \
		echo "promtool not found: alert rules not checked (apt-get install prometheus); CI is set, failing" >&2; exit 1; \
	else \
		echo "promtool not found: alert rules not checked (apt-get install prometheus)" >&2; \
	fi

## bench: the ingestion benchmark (raw JetStream ceiling vs the charging pipeline, peak memory)
bench:
	$(GO) run ./cmd/ledgerbench -events $(BENCH_EVENTS) -accounts $(BENCH_ACCOUNTS)
	$(GO) run ./cmd/ledgerbench -events $(BENCH_EVENTS) -accounts $(BENCH_ACCOUNTS) -authorize
	$(GO) run ./cmd/ledgerbench -events $(BENCH_EVENTS) -accounts $(BENCH_ACCOUNTS) -prepaid 1 -lots 3
	$(GO) run ./cmd/ledgerbench -events $(BENCH_EVENTS) -accounts $(BENCH_ACCOUNTS) -agreements 1000 -indexed
	$(GO) run ./cmd/ledgerbench -events $(BENCH_EVENTS) -accounts $(BENCH_ACCOUNTS) -nats-process -group 8
	$(GO) test -run '^$$' -bench . -benchmem ./pricing/ ./ledger/
	$(GO) test -run '^$$' -bench RunDueCatchUp -benchtime 1x ./sql/
	$(MAKE) --no-print-directory bench-billing

## bench-billing: a month of 10,000,000 charged events over 10,000 accounts, then the billing run and the UBL and CSV exports
BILLING_EVENTS ?= 10000000
bench-billing:
	$(GO) run ./cmd/ledgerbench -billing -events $(BILLING_EVENTS) -accounts $(BENCH_ACCOUNTS)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

build:
	$(GO) build -o bin/ ./cmd/...

## conformance: the public contract scenarios (needs ../shared beside the checkout)
conformance:
	../shared/conformance/run

clean:
	rm -rf bin
