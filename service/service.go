// Package service wires a running ledgerd: the store, NATS (embedded or external), ingestion,
// the outbox relay and the HTTP API. cmd/ledgerd parses flags into a Config and calls Start;
// integration tests do the same in-process.
package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/shopspring/decimal"

	"ledger/api"
	"ledger/billing"
	"ledger/clock"
	"ledger/events"
	"ledger/internal/redact"
	"ledger/invoices"
	"ledger/ledger"
	"ledger/money"
	"ledger/notify"
	"ledger/pricing"
	"ledger/tariffs"
)

// Config is what ledgerd is told by its flags and environment (CONTRACT 1).
type Config struct {
	Data       string // --data
	DB         string // --db; empty = sqlite://<data>/ledger.db
	NATS       string // --nats; empty = embedded server
	NATSListen string // --nats-listen
	// NATSUsers is the embedded server's users file (--nats-users: USER PASSWORD ROLE lines);
	// NATSCreds a credentials file (JWT and nkey) for an external server (--nats-creds).
	NATSUsers, NATSCreds string
	HTTP                 string // --http
	Tariffs              string // --tariffs; empty = the embedded example set
	APITokens            string // --api-tokens; empty = loopback only
	// MetricsOpen: /metrics answers without a token even with --api-tokens (--metrics-open).
	MetricsOpen bool
	// PseudonymKey is the file of the key of the numbers' pseudonyms (--pseudonym-key; default
	// <data>/pseudonym.key, made at first start). PersonalDataRetention is how long a record
	// keeps its pseudonym (--personal-data-retention; default 2160h, R14).
	PseudonymKey          string
	PersonalDataRetention time.Duration
	TestClock             bool // --test-clock
	// TestClockStart is where the test clock starts (default: the wall clock at start).
	TestClockStart time.Time
	BatchSize      int
	BatchWait      time.Duration
	// CommitGroup is how many waiting batches commit together at most (--commit-group;
	// events.Ingestor.GroupBatches).
	CommitGroup int
	UsageMaxAge time.Duration
	// CreditThresholds are the notice thresholds (default 0.8, 0.9: R4, T&C 3.5).
	CreditThresholds []string
	// UtilizationFloor: per-account credit metrics from this exposure ratio up.
	UtilizationFloor float64
	// SMTP, when SMTP.Addr is set, mails threshold, suspension and resume notices (T&C 3.5).
	SMTP notify.Config
	// AckWait is how long an unacknowledged usage message waits before redelivery.
	AckWait time.Duration
	// Seller is the provider as its invoices name it (UBL exports; --seller-*).
	Seller invoices.Party
	// CollectionCosts per overdue invoice (R6; default invoices.CollectionCosts, €40).
	CollectionCosts decimal.Decimal
	// OpenStore opens the store DB names; cmd/ledgerd passes the sql adapter's.
	OpenStore func(ctx context.Context, url string) (Store, error)
	// AfterCommit is the ingestor's test hook (see events.Ingestor.AfterCommit).
	AfterCommit func(events int) (ack bool)
	Log         *slog.Logger
	// Instance names this ledgerd among several on one database (--instance; default the host
	// name): the label instance of its metrics, and who wrote last in the database.
	Instance string
	// NATSReplicas is how many copies of each stream to keep (--nats-replicas); 0: min(3,
	// servers in the NATS cluster).
	NATSReplicas int
}

// DefaultSeller is the provider its invoices name unless --seller-* say otherwise. Its VAT ID and
// IBAN (a well-known example IBAN) are placeholders: a deployment sets its own.
var DefaultSeller = invoices.Party{Name: "CM.com Netherlands B.V.", Country: "NL", VATID: "NL000000000B01",
	Street: "Konijnenberg 30", City: "Breda", PostalCode: "4825 BD", Email: "billing@example.com",
	IBAN: "NL91ABNA0417164300"}

// Defaults of CONTRACT 1.
const (
	DefaultData       = "./data"
	DefaultNATSListen = "127.0.0.1:4222"
	DefaultHTTP       = "127.0.0.1:8080"
	ShutdownTimeout   = 30 * time.Second
)

// Store is what a running ledgerd needs of its store: every aggregate the use cases keep, and
// the adapter's own start-up and upkeep.
type Store interface {
	billing.Store
	// UseCredit, UsePricing and UseInvoicing hand the store what the writer decides with; the
	// first loads every account's terms and exposure into the credit book.
	UseCredit(ctx context.Context, book *ledger.CreditBook, policy ledger.CreditPolicy) error
	UsePricing(ctx context.Context, t *pricing.Tariffs) error
	UseInvoicing(cfg billing.Invoicing)
	// SetOnOutbox sets what is called after a commit that wrote outgoing events.
	SetOnOutbox(wake func())
	OverdueTotal(ctx context.Context) (money.Micros, error)
	// RunUpkeep writes what the store keeps in memory and tidies its files until ctx ends.
	RunUpkeep(ctx context.Context, log *slog.Logger)
	// CheckInvariants checks the whole database against the invariants (RULES, STYLE 5).
	CheckInvariants(ctx context.Context) error
	// Location says where the store is, without a password.
	Location() string
	// Notes are what an operator should know about the database (ledgerd logs them at start).
	Notes() []string
	// Instance is the database's own random id: the usage consumer is bound to it.
	Instance() string
	// Empty reports whether the database holds no charge and no parked event.
	Empty(ctx context.Context) (bool, error)
	// Several ledgerd on one database (docs/scaling.md): the leader lease, the read view's
	// refresh, this instance's name, the shared test clock, and how often memory was read again.
	billing.ClusterStore
	Clustered() bool
	SetInstanceName(name string)
	SetOnClock(func(time.Time))
	ClusterCounts() (reloads, refreshes int64)
	Ping(ctx context.Context) error
	Close() error
}

// DefaultDB is the database under a data directory when --db names none (CONTRACT 1).
func DefaultDB(data string) string { return "sqlite://" + filepath.Join(data, "ledger.db") }

// Opener adapts a store's Open function to Config.OpenStore (a failed open is a nil Store, not
// a Store holding a nil pointer).
func Opener[S Store](open func(ctx context.Context, url string) (S, error)) func(ctx context.Context, url string) (Store, error) {
	return func(ctx context.Context, url string) (Store, error) {
		s, err := open(ctx, url)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// Service is a running ledgerd.
type Service struct {
	Config     Config
	Store      Store
	Billing    *billing.Service
	NC         *nats.Conn
	JS         jetstream.JetStream
	Embedded   *server.Server // nil with --nats
	Ingestor   *events.Ingestor
	Relay      *events.Relay
	consumerMu sync.Mutex
	consumer   jetstream.Consumer
	natsAuth   []nats.Option // how ledgerd's connections authenticate, if they must
	Credit     *ledger.CreditBook
	Clock      clock.Clock
	Test       *clock.Test
	HTTPAddr   string // where the API listens
	NATSURL    string // where publishers connect

	httpServer *http.Server
	authNC     *nats.Conn
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	ingestErr  chan error
	stopOnce   sync.Once
	leading    atomic.Bool // holds the leader lease: ingests and runs the once-only jobs
	metrics    *events.Metrics
	leader     prometheus.Gauge
}

// Start brings up every part and returns once the service is ready.
func Start(ctx context.Context, cfg Config) (_ *Service, err error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if cfg.Data == "" {
		cfg.Data = DefaultData
	}
	if cfg.DB == "" {
		cfg.DB = DefaultDB(cfg.Data)
	}
	if cfg.NATSListen == "" {
		cfg.NATSListen = DefaultNATSListen
	}
	if cfg.HTTP == "" {
		cfg.HTTP = DefaultHTTP
	}
	if cfg.UsageMaxAge <= 0 {
		cfg.UsageMaxAge = events.DefaultUsageMaxAge
	}
	if cfg.PseudonymKey == "" {
		cfg.PseudonymKey = filepath.Join(cfg.Data, "pseudonym.key")
	}
	if cfg.PersonalDataRetention == 0 {
		cfg.PersonalDataRetention = billing.DefaultPersonalDataRetention
	}
	log := cfg.Log
	s := &Service{Config: cfg, ingestErr: make(chan error, 1)}
	defer func() {
		if err != nil {
			s.closeParts()
		}
	}()

	t, err := loadTariffs(cfg.Tariffs)
	if err != nil {
		return nil, err
	}
	var tokens *api.Tokens
	if cfg.APITokens != "" {
		if tokens, err = api.LoadTokens(cfg.APITokens); err != nil {
			return nil, err
		}
	}
	if cfg.CreditThresholds == nil {
		cfg.CreditThresholds = ledger.DefaultThresholds
	}
	policy, err := ledger.NewCreditPolicy(cfg.CreditThresholds)
	if err != nil {
		return nil, fmt.Errorf("--credit-thresholds: %w", err)
	}
	if cfg.UtilizationFloor == 0 {
		cfg.UtilizationFloor = events.DefaultUtilizationFloor
	}
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return nil, fmt.Errorf("--data %s: %w", cfg.Data, err)
	}
	// Bind the API's address first: a taken port is reported before anything else starts.
	httpListener, err := net.Listen("tcp", cfg.HTTP)
	if err != nil {
		return nil, fmt.Errorf("--http %s: %w", cfg.HTTP, err)
	}
	s.HTTPAddr = httpListener.Addr().String()
	defer func() {
		if err != nil {
			httpListener.Close()
		}
	}()

	if cfg.OpenStore == nil {
		return nil, errors.New("service: Config.OpenStore is not set (cmd/ledgerd sets it to sql.Open)")
	}
	if s.Store, err = cfg.OpenStore(ctx, cfg.DB); err != nil {
		return nil, err
	}
	named := cfg.Instance != ""
	if !named {
		if cfg.Instance, err = os.Hostname(); err != nil {
			cfg.Instance = "ledgerd"
		}
	}
	s.Store.SetInstanceName(cfg.Instance)
	for _, note := range s.Store.Notes() {
		log.Warn(note, "db", s.Store.Location())
	}
	if cfg.TestClock {
		// The test clock keeps its time across restarts; unset, it starts at TestClockStart or now.
		saved, ok, err := s.Store.TestClock(ctx)
		if err != nil {
			return nil, err
		}
		switch {
		case ok:
			s.Test = clock.NewTest(saved, true)
		case !cfg.TestClockStart.IsZero():
			s.Test = clock.NewTest(cfg.TestClockStart, false)
		default:
			s.Test = clock.NewTest(time.Now(), false)
		}
		s.Clock = s.Test
	} else {
		s.Clock = clock.System{}
	}
	if err := s.connectNATS(); err != nil {
		return nil, err
	}
	replicas := events.Replicas(cfg.NATSReplicas, len(s.NC.Servers()))
	db, err := s.database(ctx)
	if err != nil {
		return nil, err
	}
	var consumer jetstream.Consumer
	// Several instances starting at once on a new NATS cluster create the same replicated
	// streams together; the cluster may time out some of them while it places the replicas.
	err = retryNATS(ctx, log, func() error {
		if err := events.EnsureStreams(ctx, s.JS, cfg.UsageMaxAge, replicas); err != nil {
			return err
		}
		consumer, err = events.EnsureConsumer(ctx, s.JS, events.ConsumerName, cfg.AckWait, events.InFlight(cfg.BatchSize, cfg.CommitGroup), db)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.consumer = consumer
	s.Credit = ledger.NewCreditBook()
	if err := s.Store.UseCredit(ctx, s.Credit, policy); err != nil {
		return nil, err
	}
	if err := s.Store.UsePricing(ctx, t); err != nil {
		return nil, err
	}
	if cfg.CollectionCosts.IsZero() {
		cfg.CollectionCosts = invoices.CollectionCosts
	}
	if cfg.Seller.Name == "" {
		cfg.Seller = DefaultSeller
	}
	s.Config = cfg
	s.Billing = billing.New(billing.StoresOf(s.Store), s.Clock, s.Test, s.Credit, t)
	s.Billing.Log = log
	if s.Store.Clustered() {
		s.Billing.Cluster = s.Store
	}
	if s.Test != nil {
		// Another instance moved the shared test clock (POST /v1/clock there): it moves here too.
		test := s.Test
		s.Store.SetOnClock(func(t time.Time) { _ = test.Set(t) })
	}
	s.Store.UseInvoicing(billing.Invoicing{Rates: invoices.RatesOf(t.Interest()), CollectionCosts: cfg.CollectionCosts})
	s.checkCPI(t)
	// The leader lease: the instance holding it ingests and runs the once-only jobs (alone on
	// its database, a ledgerd always holds it).
	lease, leading, err := s.Store.Lead(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil && leading {
			lease.Release()
		}
	}()
	if leading {
		// Catch up with what fell due while the service was down (lots becoming usable or
		// expiring, closures, billing runs, overdue invoices), in time order, before any usage
		// is charged.
		if err := s.catchUp(ctx); err != nil {
			return nil, err
		}
	}

	gatherer := prometheus.NewRegistry()
	var reg prometheus.Registerer = gatherer
	if named {
		// Several instances: each series says which one it comes from (scrape with honor_labels).
		reg = prometheus.WrapRegistererWith(prometheus.Labels{"instance": cfg.Instance}, gatherer)
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.leader = prometheus.NewGauge(prometheus.GaugeOpts{Name: "ledger_cluster_leader",
		Help: "1 on the instance holding the leader lease, which ingests and runs the once-only jobs; 0 on the others (docs/scaling.md)."})
	reg.MustRegister(s.leader, prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "ledger_cluster_reloads_total",
		Help: "Write transactions that first read the writer's memory again because another instance had written (docs/scaling.md)."},
		func() float64 { n, _ := s.Store.ClusterCounts(); return float64(n) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "ledger_cluster_refreshes_total",
			Help: "Times this instance read the credit book and the test clock again because another instance had written (docs/scaling.md)."},
			func() float64 { _, n := s.Store.ClusterCounts(); return float64(n) }))
	metrics := events.NewMetrics(reg)
	s.metrics = metrics
	credit := events.NewCreditCollector(s.Credit, cfg.UtilizationFloor)
	credit.Clock = s.Clock
	reg.MustRegister(credit)
	store := s.Store
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ledger_receivables_overdue_eur",
		Help: "What overdue invoices leave outstanding, all accounts together, in EUR (R6)."}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		m, err := store.OverdueTotal(ctx)
		if err != nil {
			log.Error("ledger_receivables_overdue_eur", "err", err)
			return 0
		}
		f, _ := m.Decimal().Float64()
		return f
	}))

	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ledger_cpi_due_timestamp_seconds",
		Help: "When the prices in force need a CPI change that cpi.csv lacks (R3, T&C 3.4): from then on their events are parked as missing_cpi until it is added. 0 when no price is in force."},
		func() float64 {
			due, _, ok := t.CPIDue(s.Clock.Now())
			if !ok {
				return 0
			}
			return float64(due.Unix())
		}))

	s.Relay = events.NewRelay(s.Billing.Outbox, s.JS, log)
	s.Relay.Failed = prometheus.NewCounter(prometheus.CounterOpts{Name: "ledger_outbox_undeliverable_total",
		Help: "Outgoing events NATS refused for good (too large, no stream), set aside in outbox_failed instead of holding up the others."})
	reg.MustRegister(s.Relay.Failed)
	s.Store.SetOnOutbox(s.Relay.Wake)
	s.Billing.Charging.Log, s.Billing.Charging.Observe = log, metrics.ObserveBatch
	key, err := LoadPseudonymKey(cfg.PseudonymKey, log)
	if err != nil {
		return nil, err
	}
	s.Billing.Charging.Pseudonyms = ledger.NewPseudonyms(key, t.LongestPrefix())
	s.Billing.PersonalDataRetention = cfg.PersonalDataRetention
	s.Ingestor = &events.Ingestor{Consumer: consumer, Charger: s.Billing.Charging, Metrics: metrics, BatchSize: cfg.BatchSize, BatchWait: cfg.BatchWait, GroupBatches: cfg.CommitGroup, Log: log, AfterCommit: cfg.AfterCommit}
	if s.Store.Clustered() {
		s.Ingestor.Refresh = s.Store.Refresh
	}

	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if cfg.SMTP.Addr != "" {
		store := s.Billing
		mailer, err := notify.New(cfg.SMTP, s.JS, func(ctx context.Context, account string) (string, error) {
			a, err := store.Accounts.Account(ctx, account)
			return a.Email, err
		}, log)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("--smtp: %w", err)
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := mailer.Run(runCtx); err != nil {
				log.Error("mailer", "err", err)
			}
		}()
	}
	authorizer := &events.Authorizer{Charging: s.Billing.Charging, Log: log}
	// Authorisation answers on a connection of its own: on the consuming connection a request
	// would wait behind batches of usage deliveries.
	if s.authNC, err = s.dial("ledgerd-authorize"); err != nil {
		cancel()
		return nil, err
	}
	s.wg.Add(4)
	// Every instance reports the consumer's backlog (it is the cluster's, whoever ingests).
	go func() { defer s.wg.Done(); events.WatchPending(runCtx, consumer, metrics) }()
	go func() {
		defer s.wg.Done()
		if err := authorizer.Serve(runCtx, s.authNC); err != nil {
			log.Error("billing.authorize", "err", err)
		}
	}()
	go func() { defer s.wg.Done(); s.refreshLoop(runCtx) }()
	go func() { defer s.wg.Done(); s.leadLoop(runCtx, lease, leading) }()

	authFailures := prometheus.NewCounter(prometheus.CounterOpts{Name: "ledger_api_auth_failures_total",
		Help: "API requests refused for want of a valid token (missing or unknown)."})
	reg.MustRegister(authFailures)
	apiServer := &api.Server{ChargedEvents: metrics.Charged, NATSURL: s.NATSURL, Instance: cfg.Instance, Leading: s.Leading, Seller: cfg.Seller, Billing: s.Billing, Tokens: tokens, MetricsOpen: cfg.MetricsOpen,
		AuthFailures: authFailures, Gatherer: gatherer, Log: log, Ready: s.ready}
	s.httpServer = &http.Server{Handler: apiServer.Handler(), ReadHeaderTimeout: api.ReadHeaderTimeout,
		ReadTimeout: api.ReadTimeout, IdleTimeout: api.IdleTimeout}
	go func() {
		if err := s.httpServer.Serve(httpListener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("HTTP server", "err", err)
		}
	}()
	if cfg.Tariffs == "" {
		log.Warn("running on the embedded example tariffs (tariffs/example): illustrative prices, and an example CPI change for 2026 of 2 %, not the published figure. Give your own with --tariffs")
	}
	log.Info("ledgerd ready", "instance", cfg.Instance, "leader", leading, "http", s.HTTPAddr, "nats", redact.URLs(s.NATSURL), "db", s.Store.Location(), "accounts", s.Credit.Len(),
		"tariffs", tariffSource(cfg.Tariffs), "test_clock", cfg.TestClock)
	return s, nil
}

// NATSSetupTimeout bounds the tries at creating the streams and the consumer at start.
const NATSSetupTimeout = 60 * time.Second

// retryNATS tries f until it succeeds, fails for a reason a retry cannot mend, or
// NATSSetupTimeout passes; a timeout or a cluster not ready yet is tried again.
func retryNATS(ctx context.Context, log *slog.Logger, f func() error) error {
	deadline := time.Now().Add(NATSSetupTimeout)
	for wait := 250 * time.Millisecond; ; wait = min(2*wait, 4*time.Second) {
		err := f()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil ||
			!(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) ||
				strings.Contains(err.Error(), "insufficient resources") || strings.Contains(err.Error(), "no suitable peers")) {
			return err
		}
		log.Warn("NATS is not ready to create the streams and the consumer yet; trying again", "err", err)
		time.Sleep(wait)
	}
}

// ClockInterval is how often the service looks for what has fallen due (lots becoming usable
// at 00:00 Amsterdam, expiries, closures): things run at most this late.
const ClockInterval = time.Second

// ForgetInterval is how often pseudonyms past their retention are removed (R14), besides at
// every move of the test clock.
const ForgetInterval = time.Hour

// runClock runs what falls due on the clock until ctx is cancelled. With the test clock,
// moving it runs what is due at once (POST /v1/clock); this loop then finds nothing more.
func (s *Service) runClock(ctx context.Context) {
	t := time.NewTicker(ClockInterval)
	defer t.Stop()
	lastCPICheck := time.Now()
	var lastForget time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.Billing.RunDue(ctx, s.Clock.Now()); err != nil && ctx.Err() == nil {
			s.Config.Log.Error("run what fell due", "err", err)
		}
		if time.Since(lastForget) >= ForgetInterval {
			lastForget = time.Now()
			if n, err := s.Billing.ForgetPersonalData(ctx, s.Clock.Now()); err != nil && ctx.Err() == nil {
				s.Config.Log.Error("remove pseudonyms past their retention (R14)", "err", err)
			} else if n > 0 {
				s.Config.Log.Info("removed pseudonyms past their retention (R14)", "records", n)
			}
		}
		if time.Since(lastCPICheck) >= 24*time.Hour {
			lastCPICheck = time.Now()
			s.checkCPI(s.Billing.Charging.Tariffs())
		}
	}
}

// CPIWarning is how long before prices run out of CPI changes the log warns (R3).
const CPIWarning = 31 * 24 * time.Hour

// checkCPI says loudly when the prices in force need a CPI change cpi.csv lacks (R3: never a
// silent 0 %): an error once it is due, a warning in the month before.
func (s *Service) checkCPI(t *pricing.Tariffs) {
	now := s.Clock.Now()
	due, year, ok := t.CPIDue(now)
	switch {
	case !ok:
	case !now.Before(due):
		s.Config.Log.Error("R3: prices are due indexation by the CPI change of a year cpi.csv lacks; their events are parked as missing_cpi. Add it, restart and replay them (POST /v1/rejected/replay {\"reason\":\"missing_cpi\"})",
			"cpi_year", year, "since", due.Format(time.RFC3339))
	case due.Sub(now) < CPIWarning:
		s.Config.Log.Warn("R3: the CPI change of a year is needed for the indexation soon and cpi.csv lacks it; from then on events are parked as missing_cpi until it is added",
			"cpi_year", year, "from", due.Format(time.RFC3339))
	}
}

func tariffSource(dir string) string {
	if dir == "" {
		return "embedded example set"
	}
	return dir
}

func loadTariffs(dir string) (*pricing.Tariffs, error) {
	if dir == "" {
		t, err := pricing.LoadFS(tariffs.Example())
		if err != nil {
			return nil, fmt.Errorf("embedded example tariffs: %w", err)
		}
		return t, nil
	}
	t, err := pricing.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("--tariffs %s: %w", dir, err)
	}
	return t, nil
}

// dial opens another connection to the NATS server in use.
func (s *Service) dial(name string) (*nats.Conn, error) {
	opts := []nats.Option{nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(time.Second)}
	if s.Embedded != nil {
		opts = append(opts, nats.InProcessServer(s.Embedded))
	}
	opts = append(opts, s.natsAuth...)
	nc, err := nats.Connect(s.NATSURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", redact.URLs(s.NATSURL), err)
	}
	return nc, nil
}

func (s *Service) connectNATS() error {
	if s.Config.NATS == "" {
		var users []events.NATSUser
		if s.Config.NATSUsers != "" {
			var err error
			if users, err = events.LoadNATSUsers(s.Config.NATSUsers); err != nil {
				return err
			}
		} else if host, _, err := net.SplitHostPort(s.Config.NATSListen); err == nil && !isLoopback(host) && s.Config.Log != nil {
			s.Config.Log.Warn("the embedded NATS server listens beyond this machine without authentication: whoever reaches it can publish usage for any account and read every notice. Give it users with --nats-users",
				"nats_listen", s.Config.NATSListen)
		}
		ns, password, err := events.StartEmbeddedWithUsers(s.Config.NATSListen, filepath.Join(s.Config.Data, "jetstream"), users)
		if err != nil {
			return err
		}
		s.Embedded = ns
		s.NATSURL = ns.ClientURL()
		if password != "" {
			s.natsAuth = []nats.Option{nats.UserInfo(events.LedgerUser, password)}
		}
	} else {
		s.NATSURL = s.Config.NATS
		if s.Config.NATSCreds != "" {
			s.natsAuth = []nats.Option{nats.UserCredentials(s.Config.NATSCreds)}
		}
	}
	nc, err := s.dial("ledgerd")
	if err != nil {
		return err
	}
	s.NC = nc
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("JetStream: %w", err)
	}
	s.JS = js
	return nil
}

// database describes the store to the usage consumer it is bound to (events.EnsureConsumer).
func (s *Service) database(ctx context.Context) (events.Database, error) {
	empty, err := s.Store.Empty(ctx)
	if err != nil {
		return events.Database{}, err
	}
	return events.Database{Instance: s.Store.Instance(), Empty: empty, Where: s.Store.Location()}, nil
}

// ready reports whether the database, NATS and the consumer are ready (/readyz).
func (s *Service) ready(ctx context.Context) error {
	if err := s.Store.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if !s.NC.IsConnected() {
		return errors.New("NATS is not connected")
	}
	if s.leading.Load() && !s.Ingestor.Running() {
		return errors.New("the usage consumer is not running")
	}
	// A consumer deleted under the running service delivers nothing: the leader creates it
	// again (watchConsumer), and until then every instance says so here.
	if _, err := s.usageConsumer().Info(ctx); errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("the usage consumer %s on %s was deleted: nothing is charged until the leader creates it again (within %s; every event still in the stream is then delivered again and charged once)",
			events.ConsumerName, events.UsageStream, ConsumerCheckInterval)
	}
	return nil
}

// Failed yields an error when ingestion stops on its own (it cannot consume at all).
func (s *Service) Failed() <-chan error { return s.ingestErr }

// Stop drains: the API stops taking requests, the batch in flight is committed and acknowledged,
// the outbox is flushed, then NATS and the database close.
func (s *Service) Stop(ctx context.Context) error {
	var err error
	s.stopOnce.Do(func() {
		if s.httpServer != nil {
			if e := s.httpServer.Shutdown(ctx); e != nil {
				err = fmt.Errorf("HTTP shutdown: %w", e)
			}
		}
		if s.cancel != nil {
			s.cancel()
		}
		s.wg.Wait()
		s.closeParts()
	})
	return err
}

func (s *Service) closeParts() {
	if s.authNC != nil {
		s.authNC.Close()
	}
	if s.NC != nil {
		s.NC.Drain()
		s.NC.Close()
	}
	if s.Embedded != nil {
		s.Embedded.Shutdown()
		s.Embedded.WaitForShutdown()
	}
	if s.Store != nil {
		s.Store.Close()
	}
}

// DefaultGCPercent is the garbage collector's target when GOGC is not set and no memory limit
// applies: 80 rather than Go's 100. Measured with make bench (1,000,000 events): peak resident
// memory 266 → 237 MiB for 1 % of throughput. An explicit GOGC in the environment wins.
const DefaultGCPercent = 80

// LimitedGCPercent is the collector's target when GOGC is not set, a soft memory limit applies
// (MemoryLimit) and the NATS server runs apart: the limit bounds the heap, so the collector
// need not also keep it within 80 % of what is live. With the target at 80, the ledger's heap,
// whose live part is small against the limit, was collected every 45 MB allocated, far below
// the limit. Measured 2026-12-07, ledgerbench on PostgreSQL with the NATS server apart,
// -memory-limit 180MiB, 1,000,000 events: 50–51 collections and 2.4 µs of collector CPU per
// event at 80, 27 and 1.2–1.3 µs at 400; peak resident 188–189 → 199–204 MiB. With the server
// embedded its live heap fills most of the limit, which paces the collector already: there 400
// measured the same collections and a little more of their CPU in each of four alternating
// pairs (SQLite 3.4, 3.7 against 3.1, 3.5 µs per event; PostgreSQL 7.1, 7.3 against 6.3, 6.9),
// so an embedded server keeps DefaultGCPercent.
const LimitedGCPercent = 400

// TuneRuntime sets the soft memory limit (MemoryLimit) and, unless GOGC is set, the collector's
// target: LimitedGCPercent under a limit with the NATS server apart (embeddedNATS false),
// DefaultGCPercent otherwise. ledgerd and its benchmark call it. It says which limit applies,
// for the log.
func TuneRuntime(memoryLimit string, embeddedNATS bool) (string, error) {
	note, err := MemoryLimit(memoryLimit, cgroupMemoryLimit())
	if err != nil {
		return "", err
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent(debug.SetMemoryLimit(-1), embeddedNATS))
	}
	return note, nil
}

// gcPercent is the collector's target for a soft memory limit (math.MaxInt64: none).
func gcPercent(limit int64, embeddedNATS bool) int {
	if limit < math.MaxInt64 && !embeddedNATS {
		return LimitedGCPercent
	}
	return DefaultGCPercent
}

// ContainerMemoryShare is the share of a container's memory limit (cgroup) ledgerd takes as its
// soft memory limit when none is given: the rest is for what the Go runtime does not count
// (the SQLite page cache, thread stacks, the binary).
const ContainerMemoryShare = 0.9

// MemoryLimit sets the Go runtime's soft memory limit, in order of precedence: GOMEMLIMIT in
// the environment (the runtime applied it already), the --memory-limit flag (a size such as
// 200MiB or 1GiB; "off" for none), ContainerMemoryShare of the container's limit. Near the
// limit the collector runs more often, so the process stays under it as long as what it holds
// live fits (measured, 1,000,000 events over 10,000 accounts on SQLite: peak resident 295 →
// 243 MiB at 200MiB, the same share of the ceiling); a limit below the live heap costs CPU,
// never correctness (the runtime caps the collector at half the CPU and lets the heap grow).
func MemoryLimit(flagValue string, container int64) (string, error) {
	if env := os.Getenv("GOMEMLIMIT"); env != "" {
		return "GOMEMLIMIT=" + env, nil
	}
	switch flagValue {
	case "off":
		return "none (--memory-limit off)", nil
	case "":
		if container <= 0 {
			return "none (no container limit; --memory-limit sets one)", nil
		}
		limit := int64(float64(container) * ContainerMemoryShare)
		debug.SetMemoryLimit(limit)
		return fmt.Sprintf("%d MiB (%.0f %% of the container's %d MiB)", limit>>20, ContainerMemoryShare*100, container>>20), nil
	}
	limit, err := ParseSize(flagValue)
	if err != nil {
		return "", fmt.Errorf("--memory-limit %q: %w", flagValue, err)
	}
	debug.SetMemoryLimit(limit)
	return fmt.Sprintf("%d MiB (--memory-limit)", limit>>20), nil
}

// ParseSize reads a size in bytes with an optional binary unit: 209715200, 200MiB, 1GiB, 512KiB.
func ParseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		factor int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}}
	factor := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, factor = strings.TrimSuffix(s, u.suffix), u.factor
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/factor {
		return 0, fmt.Errorf("want a size such as 200MiB or 1GiB")
	}
	return n * factor, nil
}

// cgroupMemoryLimit is the memory limit of the container the process runs in (cgroup v2, then
// v1), 0 when there is none or it cannot be read.
func cgroupMemoryLimit() int64 {
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || n <= 0 || n >= 1<<62 { // "max", or v1's way of saying none
			return 0
		}
		return n
	}
	return 0
}

// PseudonymKeyBytes is the size of a key LoadPseudonymKey makes.
const PseudonymKeyBytes = 32

// LoadPseudonymKey reads the key of the numbers' pseudonyms (R14) from path — hex, one line —
// or, when there is no such file, makes one (32 random bytes, mode 0600) and warns that it must
// be backed up: without it, the pseudonyms kept can no longer be matched to a number (a data
// subject's records are then found by no one; nothing is lost of the bills).
func LoadPseudonymKey(path string, log *slog.Logger) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, PseudonymKeyBytes)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("--pseudonym-key %s: %w", path, err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("--pseudonym-key %s: %w", path, err)
		}
		_, err = fmt.Fprintln(f, hex.EncodeToString(key))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("--pseudonym-key %s: %w", path, err)
		}
		if log != nil {
			log.Warn("made a new key for the pseudonyms of numbers (R14): back it up with the database; several ledgerd on one database need the same key",
				"pseudonym_key", path)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("--pseudonym-key %s: %w", path, err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("--pseudonym-key %s: want at least 16 bytes in hex on one line (a new one is made when the file does not exist)", path)
	}
	return key, nil
}

// isLoopback reports whether a listen host is this machine only ("" and unspecified are not).
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
