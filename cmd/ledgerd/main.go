// Command ledgerd is the ledger service: it charges usage events from NATS into a double-entry
// ledger and serves the HTTP API. With no flags it runs on embedded defaults: a NATS server with
// JetStream inside the process and a SQLite database, both under --data (CONTRACT 1).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // Europe/Amsterdam must resolve on a machine without tzdata

	"github.com/shopspring/decimal"

	"ledger/billing"
	"ledger/events"
	"ledger/invoices"
	"ledger/service"
	"ledger/sql"
	_ "ledger/sql/postgres" // the engines --db can name
	_ "ledger/sql/sqlite"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "ledgerd:", err)
		os.Exit(1)
	}
}

func env(name, fallback string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return fallback
}

func run(args []string) error {
	if len(args) > 0 && args[0] == "migrate" {
		return migrate(args[1:])
	}
	cfg, memoryLimit, err := configure(args)
	if err != nil {
		return err
	}
	limit, err := service.TuneRuntime(memoryLimit, cfg.NATS == "")
	if err != nil {
		return err
	}
	return start(cfg, limit)
}

// configure reads ledgerd's flags, each with its environment variable (LEDGER_…) as default,
// into the service's configuration; it returns the memory limit asked for apart (applied by
// run before anything starts).
func configure(args []string) (service.Config, string, error) {
	fs := flag.NewFlagSet("ledgerd", flag.ContinueOnError)
	cfg := service.Config{OpenStore: service.Opener(sql.Open)}
	fs.StringVar(&cfg.Data, "data", env("LEDGER_DATA", service.DefaultData), "where the SQLite file and the embedded JetStream store live (env LEDGER_DATA)")
	fs.StringVar(&cfg.DB, "db", env("LEDGER_DB", ""), "the database: sqlite://PATH (default sqlite://<data>/ledger.db) or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?OPTIONS] (env LEDGER_DB); the schema is brought up to date at start (or by 'ledgerd migrate')")
	fs.StringVar(&cfg.NATS, "nats", env("LEDGER_NATS", ""), "external NATS: a URL, or a comma-separated list of the URLs of a cluster's servers (ledgerd reconnects to any of them); empty runs an embedded server (env LEDGER_NATS)")
	replicas := fs.String("nats-replicas", env("LEDGER_NATS_REPLICAS", "0"), "copies of each stream (USAGE, BILLING) kept by the NATS cluster; 0: min(3, servers in the cluster), which survives the loss of one node (env LEDGER_NATS_REPLICAS)")
	fs.StringVar(&cfg.Instance, "instance", env("LEDGER_INSTANCE", ""), "this ledgerd's name among several on one PostgreSQL database: the label instance of its metrics (default: the host name) (env LEDGER_INSTANCE)")
	fs.StringVar(&cfg.NATSListen, "nats-listen", env("LEDGER_NATS_LISTEN", service.DefaultNATSListen), "where the embedded NATS server listens; 127.0.0.1:0 = any free port (env LEDGER_NATS_LISTEN)")
	fs.StringVar(&cfg.NATSUsers, "nats-users", env("LEDGER_NATS_USERS", ""), "the embedded NATS server's users, lines 'USER PASSWORD ROLE' (publisher, publisher:ACCOUNT, subscriber); without it the server asks no one (env LEDGER_NATS_USERS)")
	fs.StringVar(&cfg.NATSCreds, "nats-creds", env("LEDGER_NATS_CREDS", ""), "credentials file (JWT and nkey) for the external NATS of --nats; or put USER:PASSWORD in its URL (env LEDGER_NATS_CREDS)")
	fs.StringVar(&cfg.HTTP, "http", env("LEDGER_HTTP", service.DefaultHTTP), "HTTP API and /metrics address (env LEDGER_HTTP)")
	fs.StringVar(&cfg.Tariffs, "tariffs", env("LEDGER_TARIFFS", ""), "tariffs directory (prices.csv, surcharges.csv, cpi.csv, interest.csv); default: the example set built in (env LEDGER_TARIFFS)")
	fs.StringVar(&cfg.APITokens, "api-tokens", env("LEDGER_API_TOKENS", ""), "file of lines 'TOKEN ROLE [NAME]' (roles admin, finance, viewer; NAME, default the role, is the actor in the audit trail); without it the API answers only on loopback (env LEDGER_API_TOKENS)")
	metricsOpen, err := strconv.ParseBool(env("LEDGER_METRICS_OPEN", "false"))
	if err != nil {
		return cfg, "", fmt.Errorf("LEDGER_METRICS_OPEN=%q: want true or false", os.Getenv("LEDGER_METRICS_OPEN"))
	}
	fs.BoolVar(&cfg.MetricsOpen, "metrics-open", metricsOpen, "/metrics answers without a token even when --api-tokens is set (scraped on a private network) (env LEDGER_METRICS_OPEN)")
	testClock, err := strconv.ParseBool(env("LEDGER_TEST_CLOCK", "false"))
	if err != nil {
		return cfg, "", fmt.Errorf("LEDGER_TEST_CLOCK=%q: want true or false", os.Getenv("LEDGER_TEST_CLOCK"))
	}
	fs.BoolVar(&cfg.TestClock, "test-clock", testClock, "set the clock through /v1/clock instead of the wall clock (env LEDGER_TEST_CLOCK)")
	batch, err := strconv.Atoi(env("LEDGER_BATCH_SIZE", strconv.Itoa(events.DefaultBatchSize)))
	if err != nil {
		return cfg, "", fmt.Errorf("LEDGER_BATCH_SIZE=%q: want a whole number", os.Getenv("LEDGER_BATCH_SIZE"))
	}
	fs.IntVar(&cfg.BatchSize, "batch-size", batch, fmt.Sprintf("usage events per batch, at most %d (env LEDGER_BATCH_SIZE)", events.MaxBatchSize))
	group, err := strconv.Atoi(env("LEDGER_COMMIT_GROUP", strconv.Itoa(events.DefaultGroupBatches)))
	if err != nil {
		return cfg, "", fmt.Errorf("LEDGER_COMMIT_GROUP=%q: want a whole number", os.Getenv("LEDGER_COMMIT_GROUP"))
	}
	fs.IntVar(&cfg.CommitGroup, "commit-group", group, fmt.Sprintf("batches, at most, committed together in one transaction when they wait for the database (group commit: fewer rows and COMMITs per event); 1…%d, 1 commits each alone; the usage consumer lets --batch-size × this many messages be in flight, at least %d (env LEDGER_COMMIT_GROUP)", events.MaxGroupBatches, events.MaxAckPending))
	fs.DurationVar(&cfg.UsageMaxAge, "usage-max-age", events.DefaultUsageMaxAge, "how long usage messages, numbers in clear included, stay in the USAGE stream: the longest the ledger may be down and still charge them (R14: no longer than needed)")
	fs.StringVar(&cfg.PseudonymKey, "pseudonym-key", env("LEDGER_PSEUDONYM_KEY", ""), "file of the key of the numbers' pseudonyms (R14); default <data>/pseudonym.key, made at first start: back it up (env LEDGER_PSEUDONYM_KEY)")
	retention, err := time.ParseDuration(env("LEDGER_PERSONAL_DATA_RETENTION", billing.DefaultPersonalDataRetention.String()))
	if err != nil {
		return cfg, "", fmt.Errorf("LEDGER_PERSONAL_DATA_RETENTION=%q: want a duration such as 2160h", os.Getenv("LEDGER_PERSONAL_DATA_RETENTION"))
	}
	fs.DurationVar(&cfg.PersonalDataRetention, "personal-data-retention", retention, "after this, counted from occurred_at, a record's pseudonym is removed; amounts and invoices stay (R14) (env LEDGER_PERSONAL_DATA_RETENTION)")
	fs.DurationVar(&cfg.AckWait, "ack-wait", events.AckWait, "how long a delivered, unacknowledged usage event waits before JetStream delivers it again (after a crash)")
	thresholds := fs.String("credit-thresholds", env("LEDGER_CREDIT_THRESHOLDS", "0.8,0.9"), "exposure ratios that send a billing.credit.threshold notice (R4, T&C 3.5) (env LEDGER_CREDIT_THRESHOLDS)")
	fs.Float64Var(&cfg.UtilizationFloor, "metrics-utilization-floor", events.DefaultUtilizationFloor, "export per-account credit metrics from this exposure ratio up (and for suspended accounts)")
	fs.StringVar(&cfg.SMTP.Addr, "smtp", env("LEDGER_SMTP", ""), "SMTP server HOST:PORT that mails the account's notices to its email — credit thresholds, suspension and resumption (T&C 3.5), invoices issued, overdue and paid, prepaid credit usable and expired, closure and reopening; credentials from LEDGER_SMTP_USERNAME and LEDGER_SMTP_PASSWORD (env LEDGER_SMTP)")
	fs.StringVar(&cfg.SMTP.From, "smtp-from", env("LEDGER_SMTP_FROM", ""), "sender address of those mails (env LEDGER_SMTP_FROM)")
	cfg.SMTP.Username, cfg.SMTP.Password = os.Getenv("LEDGER_SMTP_USERNAME"), os.Getenv("LEDGER_SMTP_PASSWORD")
	seller := service.DefaultSeller
	fs.StringVar(&cfg.Seller.Name, "seller-name", env("LEDGER_SELLER_NAME", seller.Name), "the provider's legal name on invoices (env LEDGER_SELLER_NAME)")
	fs.StringVar(&cfg.Seller.VATID, "seller-vat-id", env("LEDGER_SELLER_VAT_ID", seller.VATID), "the provider's VAT ID on invoices, with its country prefix; the default is a placeholder (env LEDGER_SELLER_VAT_ID)")
	fs.StringVar(&cfg.Seller.Country, "seller-country", env("LEDGER_SELLER_COUNTRY", seller.Country), "the provider's country (env LEDGER_SELLER_COUNTRY)")
	fs.StringVar(&cfg.Seller.Street, "seller-street", env("LEDGER_SELLER_STREET", seller.Street), "the provider's street address (env LEDGER_SELLER_STREET)")
	fs.StringVar(&cfg.Seller.City, "seller-city", env("LEDGER_SELLER_CITY", seller.City), "the provider's city (env LEDGER_SELLER_CITY)")
	fs.StringVar(&cfg.Seller.PostalCode, "seller-postal-code", env("LEDGER_SELLER_POSTAL_CODE", seller.PostalCode), "the provider's postal code (env LEDGER_SELLER_POSTAL_CODE)")
	fs.StringVar(&cfg.Seller.IBAN, "seller-iban", env("LEDGER_SELLER_IBAN", seller.IBAN), "the provider's IBAN that invoices ask payment to (SEPA credit transfer); the default is a placeholder (env LEDGER_SELLER_IBAN)")
	fs.StringVar(&cfg.Seller.Email, "seller-email", env("LEDGER_SELLER_EMAIL", seller.Email), "the provider's billing contact address (env LEDGER_SELLER_EMAIL)")
	costs := fs.String("collection-costs", env("LEDGER_COLLECTION_COSTS", invoices.CollectionCosts.StringFixed(2)), "collection costs charged per overdue invoice, EUR (R6; Directive 2011/7/EU art. 6) (env LEDGER_COLLECTION_COSTS)")
	memoryLimit := fs.String("memory-limit", env("LEDGER_MEMORY_LIMIT", ""), "soft memory limit of the Go runtime, such as 200MiB or 1GiB, or off (env LEDGER_MEMORY_LIMIT; GOMEMLIMIT wins); default 90 % of the container's memory limit, none outside a container. Under a limit, with --nats, the garbage collector lets the heap grow towards it (GOGC 400; otherwise 80; GOGC set wins)")
	logLevel := fs.String("log-level", env("LEDGER_LOG_LEVEL", "info"), "debug, info, warn or error (env LEDGER_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		return cfg, "", err
	}
	cfg.CreditThresholds = strings.Split(*thresholds, ",")
	if cfg.CollectionCosts, err = decimal.NewFromString(*costs); err != nil || cfg.CollectionCosts.IsNegative() ||
		!cfg.CollectionCosts.Equal(cfg.CollectionCosts.Round(2)) {
		return cfg, "", fmt.Errorf("--collection-costs %q: want an amount in EUR like 40.00", *costs)
	}
	if fs.NArg() > 0 {
		return cfg, "", fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.NATSReplicas, err = strconv.Atoi(*replicas); err != nil || cfg.NATSReplicas < 0 || cfg.NATSReplicas > 5 {
		return cfg, "", fmt.Errorf("--nats-replicas %q: want 0 (min(3, servers in the cluster)) or 1…5", *replicas)
	}
	if cfg.BatchSize < 1 || cfg.BatchSize > events.MaxBatchSize {
		return cfg, "", fmt.Errorf("--batch-size must be 1…%d", events.MaxBatchSize)
	}
	if cfg.CommitGroup < 1 || cfg.CommitGroup > events.MaxGroupBatches {
		return cfg, "", fmt.Errorf("--commit-group must be 1…%d", events.MaxGroupBatches)
	}
	if cfg.PersonalDataRetention <= 0 {
		// A retention of 0 or less would keep the pseudonyms for ever, silently.
		return cfg, "", fmt.Errorf("--personal-data-retention %s: must be positive (R14: after it, a record's pseudonym is removed)", cfg.PersonalDataRetention)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return cfg, "", fmt.Errorf("--log-level: %w", err)
	}
	cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	return cfg, *memoryLimit, nil
}

// start runs ledgerd with cfg until a signal stops it or it fails.
func start(cfg service.Config, limit string) error {
	cfg.Log.Info("runtime", "memory_limit", limit, "gomaxprocs", runtime.GOMAXPROCS(0))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	svc, err := service.Start(ctx, cfg)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		cfg.Log.Info("stopping: draining the batch in flight")
	case err := <-svc.Failed():
		svc.Stop(context.Background())
		return err
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), service.ShutdownTimeout)
	defer cancel()
	if err := svc.Stop(shutdownCtx); err != nil {
		return err
	}
	cfg.Log.Info("stopped")
	return nil
}

// migrate is 'ledgerd migrate': it brings the database's schema up to date and says where it
// stands, without starting the service (for a deploy that migrates before it rolls out).
func migrate(args []string) error {
	fs := flag.NewFlagSet("ledgerd migrate", flag.ContinueOnError)
	data := fs.String("data", env("LEDGER_DATA", service.DefaultData), "where the default SQLite file lives (env LEDGER_DATA)")
	db := fs.String("db", env("LEDGER_DB", ""), "the database: sqlite://PATH or postgres://… (env LEDGER_DB; default sqlite://<data>/ledger.db)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("migrate: unexpected arguments %q", fs.Args())
	}
	url := *db
	if url == "" {
		url = service.DefaultDB(*data)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	store, err := sql.Open(ctx, url)
	if err != nil {
		return err
	}
	if err := store.Close(); err != nil {
		return err
	}
	applied, newest, err := sql.SchemaVersion(ctx, url)
	if err != nil {
		return err
	}
	fmt.Printf("%s: schema at version %d of %d, up to date\n", sql.Redact(url), applied, newest)
	return nil
}
