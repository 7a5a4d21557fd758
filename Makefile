# The door to the project (STYLE 15). Nothing here needs PostgreSQL or a NATS server: the
# service and the tests run on an embedded NATS server and SQLite files.
GO        ?= go
DATA      ?= ./data
NATS_LISTEN ?= 127.0.0.1:4222
HTTP      ?= 127.0.0.1:8080
BENCH_EVENTS   ?= 1000000
BENCH_ACCOUNTS ?= 10000

.PHONY: run test bench lint build conformance clean

## run: the service on its embedded defaults (NATS with JetStream in the process, SQLite under ./data)
run:
	$(GO) run ./cmd/ledgerd --data $(DATA) --nats-listen $(NATS_LISTEN) --http $(HTTP)

## test: every test; with LEDGER_TEST_NATS / LEDGER_TEST_POSTGRES set, also those against those servers
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...

## bench: the ingestion benchmark (raw JetStream ceiling vs the charging pipeline, peak memory)
bench:
	$(GO) run ./cmd/ledgerbench -events $(BENCH_EVENTS) -accounts $(BENCH_ACCOUNTS)
	$(GO) test -run '^$$' -bench . -benchmem ./pricing/ ./ledger/

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
