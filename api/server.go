// Package api is the HTTP API of CONTRACT 3: routing, authentication and roles, request limits,
// and the mapping of ledger errors to HTTP statuses (in errors.go, once).
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"ledger/api/wire"
	"ledger/billing"
	"ledger/invoices"
	"ledger/ledger"
)

// Request limits.
const (
	MaxRequestBytes   = 1 << 20
	DefaultPageLimit  = 100
	MaxPageLimit      = 1000
	ReadHeaderTimeout = 10 * time.Second
	// ReadTimeout bounds reading a whole request, body included (at most MaxRequestBytes): a
	// client that trickles its body a byte at a time (slowloris) is cut off.
	ReadTimeout = 60 * time.Second
	// IdleTimeout closes a kept-alive connection that sends nothing.
	IdleTimeout = 120 * time.Second
)

// Server serves the HTTP API.
type Server struct {
	// Billing runs the use cases; the handlers decode, call it and encode.
	Billing  *billing.Service
	Tokens   *Tokens // nil: loopback only
	Gatherer prometheus.Gatherer
	// MetricsOpen lets /metrics answer without a token when tokens are configured
	// (--metrics-open: scraped on a private network).
	MetricsOpen bool
	// AuthFailures counts requests refused for want of a valid token (nil: not counted).
	AuthFailures prometheus.Counter

	routes []Route // what Handler registered
	// ChargedEvents, when set, says how many events this process has charged (the console's
	// ingestion rate).
	ChargedEvents func() float64
	// NATSURL is where platform services publish usage (GET /v1/info shows it without
	// credentials).
	NATSURL string
	// Instance names this ledgerd among several on one database; Leading says whether it holds
	// the leader lease (GET /v1/info; docs/scaling.md). Nil Leading: always.
	Instance string
	Leading  func() bool
	// Seller is the provider as its e-invoices name it (UBL exports).
	Seller invoices.Party
	Ready  func(ctx context.Context) error
	Log    *slog.Logger
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, who principal) error

// Route is a route of the API and the least role that may use it (CONTRACT 3).
type Route struct {
	Pattern string // "POST /v1/accounts"
	Role    Role
}

// Routes lists the routes Handler serves behind a token, in the order they were registered.
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// Handler returns the API's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /openapi.json", serveOpenAPI)
	s.registerConsole(mux)
	metrics := promhttp.HandlerFor(s.Gatherer, promhttp.HandlerOpts{})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		// CONTRACT 3: a token of any role when tokens are configured, unless --metrics-open.
		if s.Tokens != nil && !s.MetricsOpen {
			if _, err := s.authenticate(r); err != nil {
				writeError(w, s.Log, err)
				return
			}
		}
		metrics.ServeHTTP(w, r)
	})

	s.routes = s.routes[:0]
	route := func(pattern string, need Role, h handlerFunc) {
		s.routes = append(s.routes, Route{Pattern: pattern, Role: need})
		method, _, _ := strings.Cut(pattern, " ")
		// Every write is in the audit trail (CONTRACT 3.10), and a look at a data subject's
		// records (CONTRACT 3.6); an authorisation is a question.
		audited := (method != http.MethodGet && pattern != "POST /v1/authorize") || strings.HasPrefix(pattern, "GET /v1/data-subjects/")
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			who, err := s.authenticate(r)
			var rec *billing.AuditRecord
			if err == nil && audited {
				rec = &billing.AuditRecord{At: time.Now().UTC(), Actor: who.Name, Role: who.Role.String(),
					Method: r.Method, Path: auditPath(r), Status: successStatus(pattern)}
				if strings.Contains(pattern, " /v1/accounts/{id}") {
					rec.Account = r.PathValue("id") // elsewhere the use case names the account
				}
				r = r.WithContext(billing.WithAudit(r.Context(), rec))
			}
			sw := &statusWriter{ResponseWriter: w}
			if err == nil && who.Role < need {
				err = requireRole(need, who.Role)
			}
			if err == nil {
				r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBytes)
				err = h(sw, r, who)
			}
			if err != nil {
				writeError(sw, s.Log, err)
			}
			if rec != nil && !rec.Written {
				// Nothing committed carries it: refused, a retry, or nothing to change.
				rec.Status = sw.status
				if err := s.Billing.RecordAudit(r.Context(), rec); err != nil && s.Log != nil {
					s.Log.Error("record the audit entry", "method", rec.Method, "path", rec.Path, "err", err)
				}
			}
		})
	}
	route("POST /v1/accounts", RoleAdmin, s.createAccount)
	route("GET /v1/accounts", RoleViewer, s.listAccounts)
	route("GET /v1/accounts/{id}", RoleViewer, s.getAccount)
	route("PATCH /v1/accounts/{id}", RoleFinance, s.changeAccount)
	route("GET /v1/accounts/{id}/entries", RoleViewer, s.listEntries)
	route("PUT /v1/accounts/{id}/credit-limit", RoleFinance, s.setCreditLimit)
	route("PUT /v1/accounts/{id}/prices", RoleFinance, s.putAgreement)
	route("GET /v1/accounts/{id}/prices", RoleViewer, s.getAgreement)
	route("POST /v1/accounts/{id}/topups", RoleFinance, s.topUp)
	route("GET /v1/accounts/{id}/topups", RoleViewer, s.listTopUps)
	route("POST /v1/accounts/{id}/chargebacks", RoleFinance, s.chargeback)
	route("POST /v1/accounts/{id}/refunds", RoleFinance, s.refund)
	route("POST /v1/accounts/{id}/payments", RoleFinance, s.addPayment)
	route("POST /v1/accounts/{id}/claims", RoleFinance, s.fileClaim)
	route("GET /v1/accounts/{id}/claims", RoleViewer, s.listClaims)
	route("GET /v1/accounts/{id}/liability", RoleViewer, s.getLiability)
	route("POST /v1/accounts/{id}/terminate", RoleAdmin, s.terminate)
	route("POST /v1/billing-runs", RoleFinance, s.runBilling)
	route("GET /v1/invoices", RoleViewer, s.listInvoices)
	route("GET /v1/invoices/{id}", RoleViewer, s.getInvoice)
	route("POST /v1/invoices/{id}/disputes", RoleFinance, s.openDispute)
	route("GET /v1/disputes/{id}", RoleViewer, s.getDispute)
	route("POST /v1/disputes/{id}/resolve", RoleFinance, s.resolveDispute)
	route("GET /v1/credit-notes", RoleViewer, s.listCreditNotes)
	route("GET /v1/credit-notes/{id}", RoleViewer, s.getCreditNote)
	route("GET /v1/exports/invoices", RoleFinance, s.exportInvoices)
	route("POST /v1/authorize", RoleViewer, s.authorize)
	route("GET /v1/rejected", RoleFinance, s.listRejected)
	route("POST /v1/rejected/replay", RoleAdmin, s.replay)
	route("GET /v1/prices", RoleViewer, s.prices)
	route("GET /v1/clock", RoleViewer, s.getClock)
	route("GET /v1/info", RoleViewer, s.getInfo)
	route("POST /v1/clock", RoleAdmin, s.setClock)
	route("GET /v1/audit", RoleAdmin, s.audit)
	route("GET /v1/data-subjects/{e164}", RoleAdmin, s.dataSubject)
	route("DELETE /v1/data-subjects/{e164}", RoleAdmin, s.eraseDataSubject)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allow := s.allowed(r.URL.Path); len(allow) > 0 {
			// A route of that path, not of that method: 405 with the methods it has (RFC 9110).
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": map[string]string{"code": "method_not_allowed",
				"message": fmt.Sprintf("%s is not a method of %s; it takes %s", r.Method, auditPath(r), strings.Join(allow, ", "))}})
			return
		}
		writeError(w, s.Log, ledger.Errorf(ledger.CodeNotFound, "no route %s %s", r.Method, auditPath(r)))
	})
	return mux
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if s.Ready != nil {
		if err := s.Ready(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// decode reads a JSON body strictly: unknown fields and trailing data are errors.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return ledger.Errorf(ledger.CodeInvalid, "request body is larger than %d bytes", MaxRequestBytes)
		}
		if errors.Is(err, io.EOF) {
			return ledger.Errorf(ledger.CodeInvalid, "request body is empty; want a JSON object")
		}
		return ledger.Errorf(ledger.CodeInvalid, "request body: %v", err)
	}
	if dec.More() {
		return ledger.Errorf(ledger.CodeInvalid, "request body: data after the JSON object")
	}
	return nil
}

// page reads ?after= and ?limit=.
func page(r *http.Request) (after int64, limit int, err error) {
	if a := r.URL.Query().Get("after"); a != "" {
		if after, err = strconv.ParseInt(a, 10, 64); err != nil || after < 0 {
			return 0, 0, ledger.Errorf(ledger.CodeInvalid, "after %q is not a cursor from a previous page's next", a)
		}
	}
	limit, err = pageLimit(r)
	return after, limit, err
}

// idPage reads ?after= as the id of the last item of the previous page (lists of documents
// named by their numbers), and ?limit=.
func idPage(r *http.Request) (after string, limit int, err error) {
	limit, err = pageLimit(r)
	return r.URL.Query().Get("after"), limit, err
}

// pageLimit reads ?limit= (default DefaultPageLimit, at most MaxPageLimit).
func pageLimit(r *http.Request) (int, error) {
	l := r.URL.Query().Get("limit")
	if l == "" {
		return DefaultPageLimit, nil
	}
	limit, err := strconv.Atoi(l)
	if err != nil || limit < 1 || limit > MaxPageLimit {
		return 0, ledger.Errorf(ledger.CodeInvalid, "limit must be 1…%d", MaxPageLimit)
	}
	return limit, nil
}

// list is the shape of every list answer (CONTRACT 3): items oldest first, next the cursor of
// the following page ("" on the last).
type list struct {
	Items any    `json:"items"`
	Next  string `json:"next"`
}

func nextCursor(n, limit int, last int64) string {
	return nextID(n, limit, strconv.FormatInt(last, 10))
}

// nextID is the next cursor of a page of n items whose last is named last: none after a page
// that was not full.
func nextID(n, limit int, last string) string {
	if n < limit {
		return ""
	}
	return last
}

// written answers an idempotent write (CONTRACT 3): 201 with the record when this request made
// it, logged at level; 200 with the record the first request made when it is a retry.
func (s *Server) written(w http.ResponseWriter, r *http.Request, created bool, body any, level slog.Level, msg string, args ...any) {
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		if s.Log != nil {
			s.Log.Log(r.Context(), level, msg, args...)
		}
	}
	writeJSON(w, status, body)
}

// parseInstant reads an RFC 3339 instant within the ledger's window (ledger.ParseInstant).
func parseInstant(name, v string) (time.Time, error) { return ledger.ParseInstant(name, v) }

// getInfo says where platform services publish usage and whether the clock is the test clock,
// for tools such as ledgerctl usage send (the NATS URL without any credentials in it).
func (s *Server) getInfo(w http.ResponseWriter, r *http.Request, _ principal) error {
	leading := s.Leading == nil || s.Leading()
	writeJSON(w, http.StatusOK, map[string]any{"nats": publicURL(s.NATSURL), "test_clock": s.Billing.TestClock != nil,
		"instance": s.Instance, "leader": leading})
	return nil
}

// publicURL is a URL list without the user and password any of them carries.
func publicURL(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			u.User = nil
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}

func (s *Server) getClock(w http.ResponseWriter, r *http.Request, _ principal) error {
	now, err := s.Billing.TestNow()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"now": now.Format(time.RFC3339Nano)})
	return nil
}

// setClock moves the test clock forward and returns once everything due up to then has run.
func (s *Server) setClock(w http.ResponseWriter, r *http.Request, _ principal) error {
	if _, err := s.Billing.TestNow(); err != nil {
		return err
	}
	var body struct {
		Now string `json:"now"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	t, err := parseInstant("now", body.Now)
	if err != nil {
		return err
	}
	if err := s.Billing.SetClock(r.Context(), t); err != nil {
		return err
	}
	now, err := s.Billing.TestNow()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"now": now.Format(time.RFC3339Nano)})
	return nil
}

// requireRole refuses a principal whose role is below need (CONTRACT 3: each role may do what
// the roles below it may); the API and the console alike.
func requireRole(need, have Role) error {
	if have >= need {
		return nil
	}
	return &ledger.Error{Code: ledger.CodeForbidden, Clause: "CONTRACT 3", Message: fmt.Sprintf("this needs the %s role; the token has %s", need, have)}
}

// allowed lists the methods of the routes whose pattern matches path (HEAD with GET).
func (s *Server) allowed(path string) []string {
	var methods []string
	patterns := make([]string, 0, len(s.routes)+len(PublicRoutes))
	for _, rt := range s.routes {
		patterns = append(patterns, rt.Pattern)
	}
	for _, p := range append(patterns, PublicRoutes...) {
		method, pattern, _ := strings.Cut(p, " ")
		if !matchPath(pattern, path) || slices.Contains(methods, method) {
			continue
		}
		methods = append(methods, method)
		if method == http.MethodGet {
			methods = append(methods, http.MethodHead)
		}
	}
	sort.Strings(methods)
	return methods
}

// matchPath reports whether path matches a route pattern whose {name} segments match any one
// segment.
func matchPath(pattern, path string) bool {
	ps, qs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(qs) {
		return false
	}
	for i, p := range ps {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if qs[i] == "" {
				return false
			}
			continue
		}
		if p != qs[i] {
			return false
		}
	}
	return true
}

// createdStatus are the writes answered 201 when they create what they name (200 on a retry).
var createdStatus = map[string]bool{
	"POST /v1/accounts":                  true,
	"POST /v1/accounts/{id}/topups":      true,
	"POST /v1/accounts/{id}/chargebacks": true,
	"POST /v1/accounts/{id}/payments":    true,
	"POST /v1/accounts/{id}/claims":      true,
	"POST /v1/invoices/{id}/disputes":    true,
}

// successStatus is how a write of the route is answered when it changes what it names: the
// status its audit record carries when written with the change.
func successStatus(pattern string) int {
	if createdStatus[pattern] {
		return http.StatusCreated
	}
	return http.StatusOK
}

// auditPath is the request's path as the audit trail and the log keep it: never a number in
// clear (R14), so a data subject's path is its route.
func auditPath(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/v1/data-subjects/") {
		return "/v1/data-subjects/{e164}"
	}
	const max = 512
	if p := r.URL.Path; len(p) > max {
		return p[:max] + "…"
	}
	return r.URL.Path
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// audit lists the audit trail (CONTRACT 3.10, admin).
func (s *Server) audit(w http.ResponseWriter, r *http.Request, _ principal) error {
	after, limit, err := page(r)
	if err != nil {
		return err
	}
	entries, err := s.Billing.Audit(r.Context(), after, r.URL.Query().Get("account"), limit)
	if err != nil {
		return err
	}
	items := make([]wire.AuditEntry, 0, len(entries))
	var last int64
	for _, e := range entries {
		items = append(items, wire.AuditEntry{Seq: e.Seq, At: e.At.Format(time.RFC3339Nano), Actor: e.Actor, Role: e.Role,
			Method: e.Method, Path: e.Path, Account: e.Account, Status: e.Status})
		last = e.Seq
	}
	writeJSON(w, http.StatusOK, list{Items: items, Next: nextCursor(len(items), limit, last)})
	return nil
}

// dataSubject lists the usage records held under a number's pseudonym (CONTRACT 3.6, R14):
// never the number itself.
func (s *Server) dataSubject(w http.ResponseWriter, r *http.Request, _ principal) error {
	after, limit, err := idPage(r)
	if err != nil {
		return err
	}
	records, next, err := s.Billing.DataSubject(r.Context(), r.PathValue("e164"), after, limit)
	if err != nil {
		return err
	}
	items := make([]wire.DataSubjectRecord, 0, len(records))
	for _, v := range records {
		items = append(items, wire.DataSubjectRecord{Event: v.Event, Account: v.Account, Channel: v.Channel,
			OccurredAt: v.OccurredAt.Format(time.RFC3339Nano), Prefix: v.Prefix, Country: v.Country, Amount: v.Amount})
	}
	writeJSON(w, http.StatusOK, list{Items: items, Next: next})
	return nil
}

// eraseDataSubject anonymises the records held under a number's pseudonym (CONTRACT 3.6).
func (s *Server) eraseDataSubject(w http.ResponseWriter, r *http.Request, _ principal) error {
	n, err := s.Billing.EraseDataSubject(r.Context(), r.PathValue("e164"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int64{"erased": n})
	return nil
}
