// Package api is the HTTP API of CONTRACT 3: routing, authentication and roles, request limits,
// and the mapping of ledger errors to HTTP statuses (in errors.go, once).
package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

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
)

// Server serves the HTTP API.
type Server struct {
	// Billing runs the use cases; the handlers decode, call it and encode.
	Billing  *billing.Service
	Tokens   Tokens // nil: loopback only
	Gatherer prometheus.Gatherer
	// Seller is the provider as its e-invoices name it (UBL exports).
	Seller invoices.Party
	Ready  func(ctx context.Context) error
	Log    *slog.Logger
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, who principal) error

// Handler returns the API's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Gatherer, promhttp.HandlerOpts{}))

	route := func(pattern string, need Role, h handlerFunc) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			who, err := s.authenticate(r)
			if err == nil && who.Role < need {
				err = ledger.Errorf(ledger.CodeForbidden, "this needs the %s role; the token has %s", need, who.Role)
			}
			if err == nil {
				r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBytes)
				err = h(w, r, who)
			}
			if err != nil {
				writeError(w, s.Log, err)
			}
		})
	}
	route("POST /v1/accounts", RoleAdmin, s.createAccount)
	route("GET /v1/accounts", RoleViewer, s.listAccounts)
	route("GET /v1/accounts/{id}", RoleViewer, s.getAccount)
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
	route("GET /v1/rejected", RoleViewer, s.listRejected)
	route("POST /v1/rejected/replay", RoleAdmin, s.replay)
	route("GET /v1/prices", RoleViewer, s.prices)
	route("GET /v1/clock", RoleViewer, s.getClock)
	route("POST /v1/clock", RoleAdmin, s.setClock)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, s.Log, ledger.Errorf(ledger.CodeNotFound, "no route %s %s", r.Method, r.URL.Path))
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

func parseInstant(name, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, ledger.Errorf(ledger.CodeInvalid, "%s %q is not an RFC 3339 time", name, v)
	}
	return t.UTC(), nil
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
