package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/shopspring/decimal"

	"ledger/internal/testnet"
	"ledger/ledger"
)

// Test settings: short retries so that a retried delivery takes well under a second.
const (
	testRetryDelay = 50 * time.Millisecond
	testTimeout    = 5 * time.Second
	testWait       = 10 * time.Second // upper bound for anything to happen
	testFrom       = "Billing <billing@ledger.example>"
	eventAt        = "2025-03-01T12:00:00Z"
)

// testEmails is the address book of the tests; an account missing from it does not exist.
var testEmails = map[string]string{
	"acme":     "finance@acme.example",
	"globex":   "ap@globex.example",
	"quiet":    "", // an account without an e-mail address
	"injected": "x@acme.example\r\nBcc: victim@elsewhere.example",
}

func testEmailOf(_ context.Context, account string) (string, error) {
	email, ok := testEmails[account]
	switch {
	case !ok && strings.HasPrefix(account, "gone"):
		// As the store reports it: ledger.CodeNotFound, passed through by the lead's EmailOf.
		return "", fmt.Errorf("email of %s: %w", account, ledger.Errorf(ledger.CodeNotFound, "account %q does not exist", account))
	case !ok:
		return "", fmt.Errorf("account %s: %w", account, ErrUnknownAccount)
	}
	return email, nil
}

// ---- NATS: a real server in the test process ----

func startNATS(t *testing.T) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	ns, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(testWait) {
		t.Fatal("nats server not ready")
	}
	t.Cleanup(ns.Shutdown)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: Stream, Subjects: []string{"billing.>"}, Storage: jetstream.FileStorage,
	}); err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// ---- SMTP: a real server (go-smtp) in the test process that records what it receives ----

type receivedMail struct {
	From string
	To   []string
	Data []byte
	Auth string // "username:password" when the session authenticated
}

// mailbox is the SMTP backend. RcptReply and DataReply, when set, decide the reply to the n-th
// RCPT and the n-th message (counted from 1): nil accepts.
type mailbox struct {
	RequireAuth bool
	Username    string
	Password    string
	RcptReply   func(n int) error
	DataReply   func(n int) error

	mu       sync.Mutex
	rcpts    int
	datas    int
	accepted []receivedMail
	refused  []receivedMail // messages received in full and then refused
}

func (b *mailbox) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &session{box: b}, nil }

func (b *mailbox) Accepted() []receivedMail {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]receivedMail(nil), b.accepted...)
}

func (b *mailbox) Refused() []receivedMail {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]receivedMail(nil), b.refused...)
}

// Attempts counts RCPT commands: one per delivery attempt.
func (b *mailbox) Attempts() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rcpts
}

type session struct {
	box  *mailbox
	auth string
	mail receivedMail
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.box.Username || password != s.box.Password {
			return gosmtp.ErrAuthFailed
		}
		s.auth = username + ":" + password
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *gosmtp.MailOptions) error {
	if s.box.RequireAuth && s.auth == "" {
		return gosmtp.ErrAuthRequired
	}
	s.mail = receivedMail{From: from, Auth: s.auth}
	return nil
}

func (s *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.box.mu.Lock()
	s.box.rcpts++
	n := s.box.rcpts
	s.box.mu.Unlock()
	if s.box.RcptReply != nil {
		if err := s.box.RcptReply(n); err != nil {
			return err
		}
	}
	s.mail.To = append(s.mail.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mail.Data = data
	s.box.mu.Lock()
	s.box.datas++
	n := s.box.datas
	s.box.mu.Unlock()
	var reply error
	if s.box.DataReply != nil {
		reply = s.box.DataReply(n) // may block: called without the lock
	}
	s.box.mu.Lock()
	defer s.box.mu.Unlock()
	if reply != nil {
		s.box.refused = append(s.box.refused, s.mail)
		return reply
	}
	s.box.accepted = append(s.box.accepted, s.mail)
	return nil
}

func (s *session) Reset()        { s.mail = receivedMail{} }
func (s *session) Logout() error { return nil }

// startSMTP serves box on addr ("127.0.0.1:0" for any free port) and returns the address.
func startSMTP(t *testing.T, box *mailbox, addr string) string {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := gosmtp.NewServer(box)
	srv.Domain = "mx.test"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = testWait, testWait
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

func smtpReply(code int) error {
	return &gosmtp.SMTPError{Code: code, EnhancedCode: gosmtp.EnhancedCode{code / 100, 0, 0}, Message: "test reply"}
}

// ---- the mailer under test ----

type harness struct {
	t      *testing.T
	nc     *nats.Conn
	js     jetstream.JetStream
	box    *mailbox
	mailer *Mailer
	stop   func() error // cancels Run and returns its result
}

// newHarness starts NATS, the SMTP server (unless smtpAddr is given: the tests that start it
// late) and a running Mailer whose consumer exists.
func newHarness(t *testing.T, box *mailbox, configure func(*Config)) *harness {
	t.Helper()
	nc, js := startNATS(t)
	cfg := Config{From: testFrom, Timeout: testTimeout, RetryDelay: testRetryDelay}
	if box != nil {
		cfg.Addr = startSMTP(t, box, "127.0.0.1:0")
	}
	if configure != nil {
		configure(&cfg)
	}
	m, err := New(cfg, js, testEmailOf, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	stopped := false
	var runErr error
	stop := func() error {
		if !stopped {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(testWait):
				t.Fatal("Run did not return after its context was cancelled")
			}
			stopped = true
		}
		return runErr
	}
	t.Cleanup(func() { stop() })
	h := &harness{t: t, nc: nc, js: js, box: box, mailer: m, stop: stop}
	// The consumer delivers new events only: publish once it exists.
	h.waitFor("the consumer exists", func() bool {
		_, err := js.Consumer(context.Background(), Stream, ConsumerName)
		return err == nil
	})
	return h
}

func (h *harness) publish(subject string, body map[string]any) uint64 {
	h.t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		h.t.Fatal(err)
	}
	ack, err := h.js.Publish(context.Background(), subject, data)
	if err != nil {
		h.t.Fatal(err)
	}
	return ack.Sequence
}

func (h *harness) consumer() *jetstream.ConsumerInfo {
	h.t.Helper()
	cons, err := h.js.Consumer(context.Background(), Stream, ConsumerName)
	if err != nil {
		h.t.Fatal(err)
	}
	info, err := cons.Info(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return info
}

// settled waits until the event at stream sequence seq is acked or terminated.
func (h *harness) settled(seq uint64) *jetstream.ConsumerInfo {
	h.t.Helper()
	var info *jetstream.ConsumerInfo
	h.waitFor(fmt.Sprintf("event %d settled", seq), func() bool {
		info = h.consumer()
		return info.AckFloor.Stream >= seq && info.NumAckPending == 0 && info.NumPending == 0
	})
	return info
}

func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(testWait)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// terminations records the stream sequences of events the mailer terminated, from JetStream's
// advisories.
func (h *harness) terminations() func() []uint64 {
	h.t.Helper()
	var mu sync.Mutex
	var seqs []uint64
	sub, err := h.nc.Subscribe("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED."+Stream+"."+ConsumerName, func(msg *nats.Msg) {
		var advisory struct {
			StreamSeq uint64 `json:"stream_seq"`
		}
		if json.Unmarshal(msg.Data, &advisory) == nil {
			mu.Lock()
			seqs = append(seqs, advisory.StreamSeq)
			mu.Unlock()
		}
	})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { sub.Unsubscribe() })
	if err := h.nc.Flush(); err != nil {
		h.t.Fatal(err)
	}
	return func() []uint64 {
		h.nc.Flush()
		mu.Lock()
		defer mu.Unlock()
		return append([]uint64(nil), seqs...)
	}
}

func thresholdEvent(account string, threshold any, exposure, limit string) map[string]any {
	return map[string]any{"account": account, "at": eventAt, "threshold": threshold, "exposure": exposure, "credit_limit": limit}
}

func statusEvent(account, reason string) map[string]any {
	return map[string]any{"account": account, "at": eventAt, "reason": reason}
}

// parsed is a received mail read back: headers and the decoded body.
type parsed struct {
	Header mail.Header
	Body   string
}

func parseMail(t *testing.T, data []byte) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("received mail does not parse: %v\n%s", err, data)
	}
	if cte := msg.Header.Get("Content-Transfer-Encoding"); cte != "quoted-printable" {
		t.Fatalf("Content-Transfer-Encoding %q", cte)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	return parsed{Header: msg.Header, Body: string(body)}
}

func (p parsed) subject(t *testing.T) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(p.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// oneMail waits for exactly one accepted mail and returns it.
func (h *harness) oneMail() (receivedMail, parsed) {
	h.t.Helper()
	h.waitFor("a mail", func() bool { return len(h.box.Accepted()) >= 1 })
	got := h.box.Accepted()
	if len(got) != 1 {
		h.t.Fatalf("%d mails accepted, want 1", len(got))
	}
	return got[0], parseMail(h.t, got[0].Data)
}

func wantContains(t *testing.T, text string, parts ...string) {
	t.Helper()
	for _, part := range parts {
		if !strings.Contains(text, part) {
			t.Errorf("missing %q in:\n%s", part, text)
		}
	}
}

// ---- the rules ----

// TestNotices: R4 / T&C 3.5 — the customer is e-mailed when exposure is about to reach the
// limit, and when the account is suspended at it and resumed.
func TestNotices(t *testing.T) {
	t.Parallel()

	t.Run("R4_threshold_80_mailed", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, &mailbox{}, nil)
		terms := h.terminations()
		seq := h.publish(SubjectCreditThreshold, thresholdEvent("acme", "0.8", "4000.000000", "5000.00"))
		got, m := h.oneMail()
		h.settled(seq)

		if got.From != "billing@ledger.example" || len(got.To) != 1 || got.To[0] != "finance@acme.example" {
			t.Errorf("envelope from %q to %q", got.From, got.To)
		}
		if from := m.Header.Get("From"); from != `"Billing" <billing@ledger.example>` {
			t.Errorf("From %q", from)
		}
		if to := m.Header.Get("To"); to != "<finance@acme.example>" {
			t.Errorf("To %q", to)
		}
		if s := m.subject(t); s != "Account acme: 80 % of the credit limit used" {
			t.Errorf("Subject %q", s)
		}
		if date := m.Header.Get("Date"); date != "Sat, 01 Mar 2025 12:00:00 +0000" {
			t.Errorf("Date %q", date)
		}
		wantID := fmt.Sprintf("<billing.%d.acme.20250301T120000Z@ledger.example>", seq)
		if id := m.Header.Get("Message-ID"); id != wantID {
			t.Errorf("Message-ID %q, want %q", id, wantID)
		}
		if ct := m.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		wantContains(t, m.Body,
			"Your account acme has used 80 % of its credit limit of €5,000.00 (exposure €4,000.00, as of 1 March 2025, 12:00 UTC).",
			"T&C 3.5", "suspended until the limit is raised or invoices are paid (T&C 3.6)")
		if got := terms(); len(got) != 0 {
			t.Errorf("terminated %v", got)
		}
	})

	t.Run("R4_threshold_as_JSON_number_90", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, &mailbox{}, nil)
		seq := h.publish(SubjectCreditThreshold, thresholdEvent("globex", 0.9, "13500.004999", "15000.00"))
		got, m := h.oneMail()
		h.settled(seq)
		if got.To[0] != "ap@globex.example" {
			t.Errorf("to %q", got.To)
		}
		if s := m.subject(t); s != "Account globex: 90 % of the credit limit used" {
			t.Errorf("Subject %q", s)
		}
		// 13500.004999 rounds half away from zero to cents: €13,500.00.
		wantContains(t, m.Body, "has used 90 % of its credit limit of €15,000.00 (exposure €13,500.00,")
	})

	t.Run("T&C_3.6_suspended_mailed", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, &mailbox{}, nil)
		seq := h.publish(SubjectSuspended, statusEvent("acme", ReasonCreditLimit))
		_, m := h.oneMail()
		h.settled(seq)
		if s := m.subject(t); s != "Account acme suspended: credit limit reached" {
			t.Errorf("Subject %q", s)
		}
		wantContains(t, m.Body,
			"Your account acme has been suspended because its exposure reached the credit limit (T&C 3.6)",
			"Traffic during the suspension is still charged (T&C 10.3).",
			"resumes automatically once its exposure is below the credit limit again",
			"(T&C 10.4)")
		if id := m.Header.Get("Message-ID"); id != fmt.Sprintf("<billing.%d.acme.20250301T120000Z@ledger.example>", seq) {
			t.Errorf("Message-ID %q", id)
		}
	})

	t.Run("T&C_10.4_resumed_mailed", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, &mailbox{}, nil)
		seq := h.publish(SubjectResumed, statusEvent("acme", ReasonCreditLimit))
		_, m := h.oneMail()
		h.settled(seq)
		if s := m.subject(t); s != "Account acme active again" {
			t.Errorf("Subject %q", s)
		}
		wantContains(t, m.Body, "Your account acme is active again (T&C 10.4): its exposure is below the credit limit")
	})

	// T&C 3.13–3.15: prepaid customers hear of their credit and of a closure.
	for _, c := range []struct {
		name, subject string
		body          map[string]any
		mailSubject   string
		says          []string
	}{
		{"T&C_3.15_closed_after_registration", SubjectClosed, statusEvent("acme", "no_topup_after_registration"),
			"Account acme closed", []string{"not topped up within 3 months after registration (T&C 3.15)", "takes no top-ups"}},
		{"T&C_3.15_closed_after_depletion", SubjectClosed, statusEvent("acme", "no_topup_after_depletion"),
			"Account acme closed", []string{"within 3 months after its credit was used up (T&C 3.15)"}},
		{"T&C_3.14_closed_chargeback", SubjectClosed, statusEvent("acme", "chargeback"),
			"Account acme closed", []string{"a card payment of a top-up was reversed and no balance remained (T&C 3.14)", "remains owed"}},
		{"T&C_3.15_reopened", SubjectReopened, statusEvent("acme", "topup_received_before_closure"),
			"Account acme open again", []string{"topped up in time (T&C 3.15)"}},
		{"T&C_3.13_usable", SubjectPrepaidUsable, map[string]any{"account": "acme", "at": eventAt, "topup_id": "t1", "amount": "1250.000000"},
			"Account acme: top-up t1 usable", []string{"Your top-up t1 of account acme, €1,250.00, can be used from 1 March 2025, 12:00 UTC"}},
		{"T&C_3.7_invoice_issued", SubjectInvoiceIssued, map[string]any{"account": "acme", "at": eventAt, "invoice_id": "INV-2025-000001",
			"total": "90.75", "outstanding": "90.75", "due_date": "2025-03-15"},
			"Invoice INV-2025-000001: €90.75, due 2025-03-15", []string{"€90.75 including VAT", "pay it by 2025-03-15", "dispute it in writing up to its due date (T&C 3.11)"}},
		{"T&C_3.8_invoice_overdue", SubjectInvoiceOverdue, map[string]any{"account": "acme", "at": eventAt, "invoice_id": "INV-2025-000001",
			"total": "90.75", "outstanding": "40.75", "due_date": "2025-02-28"},
			"Invoice INV-2025-000001 overdue: €40.75 outstanding", []string{"was due on 2025-02-28 and €40.75 of it is still outstanding", "interest accrues daily", "(T&C 3.8)"}},
		{"R5_invoice_paid", SubjectInvoicePaid, map[string]any{"account": "acme", "at": eventAt, "invoice_id": "INV-2025-000001",
			"total": "90.75", "outstanding": "0.00", "due_date": "2025-03-15"},
			"Invoice INV-2025-000001 paid", []string{"€90.75, is paid in full"}},
		{"T&C_10.7_terminated", SubjectClosed, statusEvent("acme", "terminated"),
			"Account acme closed", []string{"Every invoiced amount is due at once", "due on issue (T&C 10.7)"}},
		{"T&C_3.13_expired", SubjectPrepaidExpired, map[string]any{"account": "acme", "at": eventAt, "topup_id": "t1", "amount": "9.254999"},
			"Account acme: prepaid credit expired", []string{"What was left of your top-up t1 of account acme, €9.25, expired", "not refundable (T&C 3.13)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, &mailbox{}, nil)
			seq := h.publish(c.subject, c.body)
			_, m := h.oneMail()
			h.settled(seq)
			if s := m.subject(t); s != c.mailSubject {
				t.Errorf("Subject %q, want %q", s, c.mailSubject)
			}
			wantContains(t, m.Body, c.says...)
		})
	}

	t.Run("suspended_and_resumed_in_order", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, &mailbox{}, nil)
		h.publish(SubjectSuspended, statusEvent("acme", ReasonCreditLimit))
		seq := h.publish(SubjectResumed, statusEvent("acme", ReasonCreditLimit))
		h.settled(seq)
		got := h.box.Accepted()
		if len(got) != 2 {
			t.Fatalf("%d mails, want 2", len(got))
		}
		if s := parseMail(t, got[0].Data).subject(t); !strings.Contains(s, "suspended") {
			t.Errorf("first mail %q", s)
		}
		if s := parseMail(t, got[1].Data).subject(t); !strings.Contains(s, "active again") {
			t.Errorf("second mail %q", s)
		}
	})

	t.Run("other_billing_events_not_mailed", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, &mailbox{}, nil)
		h.publish("billing.prepaid.charged_back", map[string]any{"account": "acme", "at": eventAt, "topup_id": "t1", "amount": "10.000000"})
		// A lot that expired with nothing left forfeits nothing: acknowledged, not mailed.
		h.publish(SubjectPrepaidExpired, map[string]any{"account": "acme", "at": eventAt, "topup_id": "t1", "amount": "0.000000"})
		seq := h.publish(SubjectResumed, statusEvent("acme", ReasonCreditLimit))
		h.settled(seq)
		if got := h.box.Accepted(); len(got) != 1 {
			t.Errorf("%d mails, want 1 (resumed only)", len(got))
		}
	})
}

// TestSettlement: how each outcome settles the JetStream message.
func TestSettlement(t *testing.T) {
	t.Parallel()

	t.Run("no_email_acked_nothing_sent", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, &mailbox{}, nil)
		terms := h.terminations()
		seq := h.publish(SubjectCreditThreshold, thresholdEvent("quiet", "0.8", "4000.000000", "5000.00"))
		info := h.settled(seq)
		if info.NumAckPending != 0 || info.NumRedelivered != 0 {
			t.Errorf("ack pending %d, redelivered %d", info.NumAckPending, info.NumRedelivered)
		}
		if got := terms(); len(got) != 0 {
			t.Errorf("terminated %v, want acked", got)
		}
		if n := h.box.Attempts(); n != 0 {
			t.Errorf("%d SMTP attempts, want none", n)
		}
	})

	t.Run("unknown_account_terminated", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, &mailbox{}, nil)
		terms := h.terminations()
		seq := h.publish(SubjectSuspended, statusEvent("nobody", ReasonCreditLimit))
		h.settled(seq)
		h.waitFor("termination advisory", func() bool { return len(terms()) == 1 && terms()[0] == seq })
		if n := h.box.Attempts(); n != 0 {
			t.Errorf("%d SMTP attempts, want none", n)
		}
	})

	t.Run("unknown_account_by_ledger_code_terminated", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, &mailbox{}, nil)
		terms := h.terminations()
		seq := h.publish(SubjectResumed, statusEvent("gone", ReasonCreditLimit))
		h.settled(seq)
		h.waitFor("termination advisory", func() bool { return len(terms()) == 1 && terms()[0] == seq })
	})

	t.Run("malformed_event_terminated", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, &mailbox{}, nil)
		terms := h.terminations()
		seq := h.publish(SubjectCreditThreshold, map[string]any{"account": "acme", "at": eventAt, "threshold": "0.8"})
		h.settled(seq)
		h.waitFor("termination advisory", func() bool { return len(terms()) == 1 })
		if n := h.box.Attempts(); n != 0 {
			t.Errorf("%d SMTP attempts, want none", n)
		}
	})

	t.Run("header_injection_in_address_terminated", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, &mailbox{}, nil)
		terms := h.terminations()
		seq := h.publish(SubjectResumed, statusEvent("injected", ReasonCreditLimit))
		h.settled(seq)
		h.waitFor("termination advisory", func() bool { return len(terms()) == 1 })
		if n := h.box.Attempts(); n != 0 {
			t.Errorf("%d SMTP attempts, want none", n)
		}
	})

	t.Run("451_on_RCPT_retried_then_delivered_once", func(t *testing.T) {
		t.Parallel()
		box := &mailbox{RcptReply: func(n int) error {
			if n == 1 {
				return smtpReply(451)
			}
			return nil
		}}
		h := newHarness(t, box, nil)
		terms := h.terminations()
		seq := h.publish(SubjectCreditThreshold, thresholdEvent("acme", "0.8", "4000.000000", "5000.00"))
		h.oneMail()
		info := h.settled(seq)
		if n := box.Attempts(); n != 2 {
			t.Errorf("%d attempts, want 2", n)
		}
		if info.NumRedelivered != 0 || info.NumAckPending != 0 {
			t.Errorf("redelivered %d, ack pending %d", info.NumRedelivered, info.NumAckPending)
		}
		if got := terms(); len(got) != 0 {
			t.Errorf("terminated %v", got)
		}
		time.Sleep(10 * testRetryDelay)
		if got := box.Accepted(); len(got) != 1 {
			t.Errorf("%d mails, want 1", len(got))
		}
	})

	t.Run("451_after_DATA_redelivery_keeps_Message-ID", func(t *testing.T) {
		t.Parallel()
		box := &mailbox{DataReply: func(n int) error {
			if n == 1 {
				return smtpReply(451)
			}
			return nil
		}}
		h := newHarness(t, box, nil)
		seq := h.publish(SubjectSuspended, statusEvent("acme", ReasonCreditLimit))
		_, accepted := h.oneMail()
		h.settled(seq)
		refused := box.Refused()
		if len(refused) != 1 {
			t.Fatalf("%d refused, want 1", len(refused))
		}
		first := parseMail(t, refused[0].Data)
		id := accepted.Header.Get("Message-ID")
		if id == "" || id != first.Header.Get("Message-ID") {
			t.Errorf("Message-ID %q on redelivery, %q the first time", id, first.Header.Get("Message-ID"))
		}
		if string(refused[0].Data) != string(box.Accepted()[0].Data) {
			t.Error("the redelivered message differs from the first")
		}
	})

	t.Run("550_on_RCPT_terminated_not_retried", func(t *testing.T) {
		t.Parallel()
		box := &mailbox{RcptReply: func(int) error { return smtpReply(550) }}
		h := newHarness(t, box, nil)
		terms := h.terminations()
		seq := h.publish(SubjectCreditThreshold, thresholdEvent("acme", "0.8", "4000.000000", "5000.00"))
		h.settled(seq)
		h.waitFor("termination advisory", func() bool { return len(terms()) == 1 && terms()[0] == seq })
		time.Sleep(10 * testRetryDelay)
		if n := box.Attempts(); n != 1 {
			t.Errorf("%d attempts, want 1", n)
		}
	})

	t.Run("554_after_DATA_terminated_not_retried", func(t *testing.T) {
		t.Parallel()
		box := &mailbox{DataReply: func(int) error { return smtpReply(554) }}
		h := newHarness(t, box, nil)
		terms := h.terminations()
		seq := h.publish(SubjectResumed, statusEvent("acme", ReasonCreditLimit))
		h.settled(seq)
		h.waitFor("termination advisory", func() bool { return len(terms()) == 1 })
		time.Sleep(10 * testRetryDelay)
		if n := box.Attempts(); n != 1 || len(box.Accepted()) != 0 {
			t.Errorf("%d attempts, %d accepted; want 1, 0", n, len(box.Accepted()))
		}
	})

	t.Run("connection_refused_retried_until_server_up", func(t *testing.T) {
		t.Parallel()
		// A free port with nothing listening: connections are refused until the server starts.
		addr := testnet.FreeAddr(t)
		h := newHarness(t, nil, func(c *Config) { c.Addr = addr })
		terms := h.terminations()
		seq := h.publish(SubjectCreditThreshold, thresholdEvent("acme", "0.9", "4500.000000", "5000.00"))
		h.waitFor("two failed attempts", func() bool { return h.consumer().Delivered.Stream >= seq && h.consumer().NumRedelivered >= 1 })
		h.box = &mailbox{}
		startSMTP(t, h.box, addr)
		h.oneMail()
		h.settled(seq)
		if got := terms(); len(got) != 0 {
			t.Errorf("terminated %v", got)
		}
	})

	t.Run("stopping_ends_Run", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, &mailbox{}, nil)
		begin := time.Now()
		if err := h.stop(); err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
		if d := time.Since(begin); d > 2*time.Second {
			t.Errorf("Run took %s to stop", d)
		}
	})

	t.Run("stopping_mid_delivery_gives_the_event_back", func(t *testing.T) {
		t.Parallel()
		dataStarted, release := make(chan struct{}), make(chan struct{})
		box := &mailbox{DataReply: func(n int) error {
			if n == 1 {
				close(dataStarted)
				<-release // the server sits on the first message until the test ends
				return smtpReply(451)
			}
			return nil
		}}
		h := newHarness(t, box, nil)
		t.Cleanup(func() { close(release) }) // before the SMTP server's cleanup (LIFO)
		seq := h.publish(SubjectSuspended, statusEvent("acme", ReasonCreditLimit))
		select {
		case <-dataStarted:
		case <-time.After(testWait):
			t.Fatal("the message never reached DATA")
		}
		begin := time.Now()
		if err := h.stop(); err != nil {
			t.Errorf("Run returned %v", err)
		}
		if d := time.Since(begin); d > 2*time.Second {
			t.Errorf("Run took %s to stop mid-delivery (timeout %s)", d, testTimeout)
		}
		// A new run delivers the event, without waiting for a retry delay or the ack wait.
		cfg := Config{Addr: h.mailer.cfg.Addr, From: testFrom, Timeout: testTimeout, RetryDelay: time.Hour}
		m, err := New(cfg, h.js, testEmailOf, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		defer func() { cancel(); <-done }()
		h.oneMail()
		h.settled(seq)
	})

	t.Run("consumer_configuration", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, &mailbox{}, nil)
		cfg := h.consumer().Config
		if cfg.Durable != ConsumerName || cfg.AckPolicy != jetstream.AckExplicitPolicy || cfg.MaxDeliver != MaxDeliver {
			t.Errorf("durable %q, ack policy %v, max deliver %d", cfg.Durable, cfg.AckPolicy, cfg.MaxDeliver)
		}
		want := []string{"billing.credit.threshold", "billing.account.suspended", "billing.account.resumed",
			"billing.account.closed", "billing.account.reopened", "billing.prepaid.usable", "billing.prepaid.expired",
			"billing.invoice.issued", "billing.invoice.overdue", "billing.invoice.paid"}
		if strings.Join(cfg.FilterSubjects, " ") != strings.Join(want, " ") {
			t.Errorf("filter subjects %v", cfg.FilterSubjects)
		}
		if len(cfg.BackOff) == 0 || len(cfg.BackOff) >= MaxDeliver {
			t.Fatalf("backoff %v", cfg.BackOff)
		}
		for _, wait := range cfg.BackOff {
			if wait <= testTimeout {
				t.Errorf("backoff %v: a wait of %s does not outlast a delivery (%s)", cfg.BackOff, wait, testTimeout)
			}
		}
	})
}

// TestAuth: credentials go with AUTH PLAIN; the test server refuses mail without them.
func TestAuth(t *testing.T) {
	t.Parallel()

	t.Run("AUTH_PLAIN_sent_when_configured", func(t *testing.T) {
		t.Parallel()
		box := &mailbox{RequireAuth: true, Username: "ledger", Password: "s3cret pass"}
		h := newHarness(t, box, func(c *Config) { c.Username, c.Password = "ledger", "s3cret pass" })
		seq := h.publish(SubjectSuspended, statusEvent("acme", ReasonCreditLimit))
		got, _ := h.oneMail()
		h.settled(seq)
		if got.Auth != "ledger:s3cret pass" {
			t.Errorf("authenticated as %q", got.Auth)
		}
	})

	t.Run("wrong_password_retried_not_terminated", func(t *testing.T) {
		t.Parallel()
		box := &mailbox{RequireAuth: true, Username: "ledger", Password: "right"}
		h := newHarness(t, box, func(c *Config) { c.Username, c.Password = "ledger", "wrong" })
		terms := h.terminations()
		h.publish(SubjectSuspended, statusEvent("acme", ReasonCreditLimit))
		// 535 at AUTH is our configuration, not this mail: retried.
		h.waitFor("a retry", func() bool { return h.consumer().NumRedelivered >= 1 })
		if got := terms(); len(got) != 0 {
			t.Errorf("terminated %v", got)
		}
		if len(box.Accepted()) != 0 {
			t.Error("mail accepted without authentication")
		}
	})

	t.Run("no_credentials_over_plain_text_to_a_remote_server", func(t *testing.T) {
		auth := &plainAuth{username: "ledger", password: "secret", loopback: false}
		if _, _, err := auth.Start(&smtp.ServerInfo{Name: "mx.example", TLS: false, Auth: []string{"PLAIN"}}); err == nil {
			t.Error("PLAIN credentials offered over an unencrypted connection to a remote server")
		}
		if mech, resp, err := auth.Start(&smtp.ServerInfo{Name: "mx.example", TLS: true}); err != nil || mech != "PLAIN" || string(resp) != "\x00ledger\x00secret" {
			t.Errorf("over TLS: %q %q %v", mech, resp, err)
		}
		loopback := &plainAuth{username: "ledger", password: "secret", loopback: true}
		if _, _, err := loopback.Start(&smtp.ServerInfo{Name: "127.0.0.1", TLS: false}); err != nil {
			t.Errorf("loopback: %v", err)
		}
	})
}

func TestNewValidatesConfig(t *testing.T) {
	_, js := startNATS(t)
	good := Config{Addr: "127.0.0.1:25", From: "billing@ledger.example"}
	for _, tc := range []struct {
		name   string
		change func(*Config)
		ok     bool
	}{
		{"complete", func(*Config) {}, true},
		{"no_addr", func(c *Config) { c.Addr = "" }, false},
		{"addr_without_port", func(c *Config) { c.Addr = "mail.example" }, false},
		{"no_from", func(c *Config) { c.From = "" }, false},
		{"from_not_an_address", func(c *Config) { c.From = "billing" }, false},
		{"from_header_injection", func(c *Config) { c.From = "billing@ledger.example\r\nBcc: x@y.example" }, false},
		{"password_without_username", func(c *Config) { c.Password = "secret" }, false},
		{"negative_timeout", func(c *Config) { c.Timeout = -time.Second }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.change(&cfg)
			m, err := New(cfg, js, testEmailOf, nil)
			if (err == nil) != tc.ok {
				t.Fatalf("New: %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && (m.cfg.Timeout != DefaultTimeout || m.cfg.RetryDelay != DefaultRetryDelay) {
				t.Errorf("defaults: timeout %s, retry delay %s", m.cfg.Timeout, m.cfg.RetryDelay)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		stage     string
		err       error
		permanent bool
	}{
		{stageRcpt, &textproto.Error{Code: 550, Msg: "no such user"}, true},
		{stageData, &textproto.Error{Code: 554, Msg: "rejected"}, true},
		{stageRcpt, &textproto.Error{Code: 451, Msg: "try later"}, false},
		{stageData, &textproto.Error{Code: 452, Msg: "full"}, false},
		{stageMail, &textproto.Error{Code: 550, Msg: "sender refused"}, false},
		{stageAuth, &textproto.Error{Code: 535, Msg: "bad credentials"}, false},
		{stageConnect, &net.OpError{Op: "dial", Err: errors.New("connection refused")}, false},
		{stageData, io.ErrUnexpectedEOF, false},
	} {
		if got := classify(tc.stage, tc.err).Permanent; got != tc.permanent {
			t.Errorf("%s %v: permanent %v, want %v", tc.stage, tc.err, got, tc.permanent)
		}
	}
}

func TestFormatEUR(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"5000.00", "€5,000.00"},
		{"4000.000000", "€4,000.00"},
		{"0", "€0.00"},
		{"999.994999", "€999.99"},
		{"999.995", "€1,000.00"},
		{"1234567.891", "€1,234,567.89"},
		{"-1500.5", "-€1,500.50"},
	} {
		if got := formatEUR(decimal.RequireFromString(tc.in)); got != tc.want {
			t.Errorf("formatEUR(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestDecodeEvent(t *testing.T) {
	for _, tc := range []struct {
		name    string
		subject string
		body    string
		ok      bool
	}{
		{"threshold_string", SubjectCreditThreshold, `{"account":"acme","at":"2025-03-01T12:00:00Z","threshold":"0.8","exposure":"4000.000000","credit_limit":"5000.00"}`, true},
		{"threshold_number", SubjectCreditThreshold, `{"account":"acme","at":"2025-03-01T12:00:00Z","threshold":0.9,"exposure":"4500.000000","credit_limit":"5000.00"}`, true},
		{"threshold_percent_not_fraction", SubjectCreditThreshold, `{"account":"acme","at":"2025-03-01T12:00:00Z","threshold":80,"exposure":"4000","credit_limit":"5000"}`, false},
		{"threshold_missing_limit", SubjectCreditThreshold, `{"account":"acme","at":"2025-03-01T12:00:00Z","threshold":"0.8","exposure":"4000"}`, false},
		{"amount_with_exponent", SubjectCreditThreshold, `{"account":"acme","at":"2025-03-01T12:00:00Z","threshold":"0.8","exposure":"4e3","credit_limit":"5000"}`, false},
		{"no_at", SubjectSuspended, `{"account":"acme","reason":"credit_limit"}`, false},
		{"bad_account", SubjectSuspended, `{"account":"Acme Inc","at":"2025-03-01T12:00:00Z","reason":"credit_limit"}`, false},
		{"reason_with_newline", SubjectSuspended, `{"account":"acme","at":"2025-03-01T12:00:00Z","reason":"x\ny"}`, false},
		{"suspended", SubjectSuspended, `{"account":"acme","at":"2025-03-01T12:00:00Z","reason":"credit_limit"}`, true},
		{"other_subject", "billing.usage.rejected", `{"account":"acme","at":"2025-03-01T12:00:00Z"}`, false},
		{"invoice_without_total", SubjectInvoiceIssued, `{"account":"acme","at":"2025-03-01T12:00:00Z","invoice_id":"INV-2025-000001","outstanding":"1.00","due_date":"2025-03-15"}`, false},
		{"invoice_bad_due_date", SubjectInvoiceOverdue, `{"account":"acme","at":"2025-03-01T12:00:00Z","invoice_id":"INV-2025-000001","total":"1.00","outstanding":"1.00","due_date":"15/03/2025"}`, false},
		{"invoice", SubjectInvoicePaid, `{"account":"acme","at":"2025-03-01T12:00:00Z","invoice_id":"INV-2025-000001","total":"1.00","outstanding":"0.00","due_date":"2025-03-15"}`, true},
		{"usable", SubjectPrepaidUsable, `{"account":"acme","at":"2025-03-01T12:00:00Z","topup_id":"t1","amount":"10.000000"}`, true},
		{"usable_without_amount", SubjectPrepaidUsable, `{"account":"acme","at":"2025-03-01T12:00:00Z","topup_id":"t1"}`, false},
		{"expired_negative", SubjectPrepaidExpired, `{"account":"acme","at":"2025-03-01T12:00:00Z","topup_id":"t1","amount":"-1"}`, false},
		{"expired_bad_topup_id", SubjectPrepaidExpired, `{"account":"acme","at":"2025-03-01T12:00:00Z","topup_id":"a b","amount":"1"}`, false},
		{"closed", SubjectClosed, `{"account":"acme","at":"2025-03-01T12:00:00Z","reason":"chargeback"}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeEvent(tc.subject, []byte(tc.body))
			if (err == nil) != tc.ok {
				t.Errorf("decodeEvent: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
