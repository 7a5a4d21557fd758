package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"ledger/ledger"
)

// Where the Mailer reads (CONTRACT 5).
const (
	// Stream is the stream the ledger publishes its outgoing events to.
	Stream = "BILLING"
	// ConsumerName is the Mailer's durable pull consumer on Stream.
	ConsumerName = "ledger-mailer"
)

// Limits and defaults.
const (
	// DefaultTimeout bounds one delivery: the address lookup and the whole SMTP conversation.
	DefaultTimeout = 30 * time.Second
	// DefaultRetryDelay is the wait before the first retry of a temporary failure; it doubles
	// with every further attempt, up to MaxRetryDelay.
	DefaultRetryDelay = time.Minute
	// MaxRetryDelay caps the wait between two attempts.
	MaxRetryDelay = time.Hour
	// MaxDeliver bounds the attempts per event; with the defaults they span about 14 hours.
	// The last attempt that fails terminates the event (logged as an error).
	MaxDeliver = 20
	// MaxAckPending bounds the events delivered and not yet acknowledged, most of them waiting
	// for a retry; one address that keeps failing does not hold up mail to the others.
	MaxAckPending = 1000
	// backOffSteps is how many redelivery waits the consumer's BackOff lists (the last repeats).
	backOffSteps = 8
	// ackMargin is added to the delivery timeout for the consumer's ack wait, so that JetStream
	// never redelivers an event while its mail is still being sent.
	ackMargin = 10 * time.Second
	// ackTimeout bounds waiting for JetStream to confirm an acknowledgement.
	ackTimeout = 5 * time.Second
	// fetchWait is how long one pull request waits for an event.
	fetchWait = 30 * time.Second
	// reconnectDelay is the pause before the consumer is set up again after NATS failed.
	reconnectDelay = 5 * time.Second
)

// ErrUnknownAccount is what an EmailOf returns (wrapped or not) for an account that does not
// exist; an error with ledger.CodeNotFound means the same. The Mailer terminates such events.
var ErrUnknownAccount = errors.New("unknown account")

// Config of the SMTP notifier (--smtp ADDR, --smtp-from; credentials from env
// LEDGER_SMTP_USERNAME / LEDGER_SMTP_PASSWORD).
type Config struct {
	Addr string // host:port of the SMTP server
	From string // envelope and header sender: "billing@example.com" or "Billing <billing@example.com>"
	// Username and Password are optional; they are sent with AUTH PLAIN, only over TLS (STARTTLS
	// when the server offers it) or to a server on a loopback address.
	Username, Password string
	Timeout            time.Duration // per delivery, default DefaultTimeout
	RetryDelay         time.Duration // first retry after a temporary failure, default DefaultRetryDelay
}

// EmailOf returns an account's e-mail address ("" when it has none) — the lead passes a
// function backed by the database. For an account that does not exist it returns
// ErrUnknownAccount or an error with ledger.CodeNotFound.
type EmailOf func(ctx context.Context, account string) (string, error)

// Mailer e-mails customers the credit notices of T&C 3.5, 3.6 and 10.4 from the BILLING stream.
type Mailer struct {
	cfg       Config
	from      *mail.Address
	host      string // of cfg.Addr: the TLS server name
	helloName string // our name in EHLO
	js        jetstream.JetStream
	emailOf   EmailOf
	log       *slog.Logger
}

// New returns a Mailer; it checks cfg (Addr and From are required) and fills in the defaults.
func New(cfg Config, js jetstream.JetStream, emailOf EmailOf, log *slog.Logger) (*Mailer, error) {
	if cfg.Addr == "" {
		return nil, errors.New("smtp: an address (--smtp host:port) is required")
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("smtp: address %q: want host:port", cfg.Addr)
	}
	if cfg.From == "" {
		return nil, errors.New("smtp: a sender (--smtp-from) is required")
	}
	if strings.ContainsFunc(cfg.From, isControl) {
		return nil, fmt.Errorf("smtp: sender %q contains a control character", cfg.From)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp: sender %q: %w", cfg.From, err)
	}
	if strings.ContainsFunc(cfg.Username+cfg.Password, isControl) {
		return nil, errors.New("smtp: credentials contain a control character")
	}
	if cfg.Password != "" && cfg.Username == "" {
		return nil, errors.New("smtp: a password without a username")
	}
	if cfg.Timeout < 0 || cfg.RetryDelay < 0 {
		return nil, errors.New("smtp: timeout and retry delay must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.RetryDelay == 0 {
		cfg.RetryDelay = DefaultRetryDelay
	}
	if js == nil || emailOf == nil {
		return nil, errors.New("smtp: the mailer needs JetStream and an EmailOf")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	helloName, err := os.Hostname()
	if err != nil || helloName == "" || strings.ContainsFunc(helloName, isControl) {
		helloName = "localhost"
	}
	return &Mailer{
		cfg: cfg, from: from, host: host, helloName: helloName,
		js: js, emailOf: emailOf, log: log.With("component", "mailer"),
	}, nil
}

// Run ensures the durable consumer and mails events until ctx is cancelled; it returns when
// stopped. NATS failures do not end it: it logs them and sets the consumer up again, since the
// notices wait in the stream meanwhile. It returns nil once ctx is cancelled.
func (m *Mailer) Run(ctx context.Context) error {
	for {
		cons, err := m.ensureConsumer(ctx)
		if err == nil {
			err = m.consume(ctx, cons)
		}
		if ctx.Err() != nil {
			return nil
		}
		m.log.Warn("mail consumer failed; setting it up again", "in", reconnectDelay, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(reconnectDelay):
		}
	}
}

// consumerConfig is the configuration of the Mailer's durable consumer.
func (m *Mailer) consumerConfig() jetstream.ConsumerConfig {
	// BackOff paces redeliveries of events whose acknowledgement never came (a crash while
	// mailing); each wait must outlast a delivery, or an event would be mailed twice at once.
	backOff := make([]time.Duration, backOffSteps)
	for i := range backOff {
		backOff[i] = max(m.retryDelay(i+1), m.cfg.Timeout+ackMargin)
	}
	return jetstream.ConsumerConfig{
		Durable:     ConsumerName,
		Description: "customer e-mails (T&C 3.5)",
		// Only events from the consumer's creation on: switching mail on must not send every
		// notice in the stream's history.
		DeliverPolicy:  jetstream.DeliverNewPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        backOff[0],
		BackOff:        backOff,
		MaxDeliver:     MaxDeliver,
		MaxAckPending:  MaxAckPending,
		FilterSubjects: Subjects,
	}
}

func (m *Mailer) ensureConsumer(ctx context.Context) (jetstream.Consumer, error) {
	cons, err := m.js.CreateOrUpdateConsumer(ctx, Stream, m.consumerConfig())
	if err != nil {
		return nil, fmt.Errorf("consumer %s on %s: %w", ConsumerName, Stream, err)
	}
	return cons, nil
}

// consume mails events one at a time until ctx is cancelled (nil) or NATS fails (the error).
// One at a time: each event is fetched only when the previous one is settled, so its ack wait
// starts when its delivery does.
func (m *Mailer) consume(ctx context.Context, cons jetstream.Consumer) error {
	for {
		fetchCtx, cancel := context.WithTimeout(ctx, fetchWait)
		msg, err := cons.Next(jetstream.FetchContext(fetchCtx))
		cancel()
		if ctx.Err() != nil {
			if msg != nil {
				m.giveBack(msg) // fetched as we stopped: at once to whoever reads next
			}
			return nil
		}
		if errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
			continue // no event within fetchWait
		}
		if err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
		m.handle(ctx, msg)
	}
}

// handle mails one event and settles its message: ack, nak with delay or term.
func (m *Mailer) handle(ctx context.Context, msg jetstream.Msg) {
	meta, err := msg.Metadata()
	if err != nil {
		m.log.Error("event without JetStream metadata; dropped", "subject", msg.Subject(), "err", err)
		m.term(msg, "no metadata")
		return
	}
	log := m.log.With("subject", msg.Subject(), "stream_seq", meta.Sequence.Stream, "attempt", meta.NumDelivered)
	ev, err := decodeEvent(msg.Subject(), msg.Data())
	if err != nil {
		log.Error("malformed event; not mailed", "err", err)
		m.term(msg, "malformed event")
		return
	}
	log = log.With("account", ev.Account)
	if !ev.mailable() {
		log.Info("nothing to tell the customer; not mailed")
		m.ack(msg, log)
		return
	}

	deliveryCtx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	address, err := m.emailOf(deliveryCtx, ev.Account)
	switch {
	case errors.Is(err, ErrUnknownAccount) || ledger.ErrorCode(err) == ledger.CodeNotFound:
		log.Warn("event for an unknown account; not mailed", "err", err)
		m.term(msg, "unknown account")
		return
	case err != nil:
		m.retry(ctx, msg, meta, log, fmt.Errorf("look up e-mail address: %w", err))
		return
	case address == "":
		log.Info("account has no e-mail address; nothing to send")
		m.ack(msg, log)
		return
	}
	n, err := composeNotice(ev, meta.Sequence.Stream, m.from, address)
	if err != nil {
		log.Error("cannot write the notice; not mailed", "err", err)
		m.term(msg, "unusable address")
		return
	}
	err = m.send(deliveryCtx, n)
	var failure *deliveryError
	switch {
	case err == nil:
		log.Info("notice mailed")
		m.ack(msg, log)
	case errors.As(err, &failure) && failure.Permanent:
		log.Error("SMTP server refused the notice; not retried", "to", n.To, "err", err)
		m.term(msg, "refused by the SMTP server")
	default:
		m.retry(ctx, msg, meta, log, err)
	}
}

// retry gives a temporarily failed event back for a later attempt, or terminates it when it had
// its last.
func (m *Mailer) retry(ctx context.Context, msg jetstream.Msg, meta *jetstream.MsgMetadata, log *slog.Logger, cause error) {
	if ctx.Err() != nil {
		// Stopping cut the delivery short: the next run (or another instance) tries at once.
		log.Info("stopped while mailing; the event will be delivered again", "err", cause)
		m.giveBack(msg)
		return
	}
	if meta.NumDelivered >= MaxDeliver {
		log.Error("notice not mailed after the last attempt; giving up", "attempts", meta.NumDelivered, "err", cause)
		m.term(msg, "attempts exhausted")
		return
	}
	delay := m.retryDelay(int(meta.NumDelivered))
	log.Warn("notice not mailed; will retry", "in", delay, "err", cause)
	if err := msg.NakWithDelay(delay); err != nil {
		log.Warn("nak failed; JetStream redelivers after the ack wait", "err", err)
	}
}

// giveBack naks a message and flushes the connection, so that the nak has left before Run
// returns: a nak still in the client's buffer when the caller closes the connection would leave
// the event to the ack wait.
func (m *Mailer) giveBack(msg jetstream.Msg) {
	_ = msg.Nak()
	_ = m.js.Conn().FlushTimeout(flushWait)
}

// flushWait bounds how long giving an event back may wait for the server.
const flushWait = 2 * time.Second

// retryDelay is the wait after the attempt-th failed attempt: RetryDelay doubling, capped.
func (m *Mailer) retryDelay(attempt int) time.Duration {
	delay := m.cfg.RetryDelay
	for i := 1; i < attempt && delay < MaxRetryDelay; i++ {
		delay *= 2
	}
	return min(delay, max(MaxRetryDelay, m.cfg.RetryDelay))
}

func (m *Mailer) ack(msg jetstream.Msg, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), ackTimeout)
	defer cancel()
	// A confirmed ack: one that is lost would send the notice again after the ack wait.
	if err := msg.DoubleAck(ctx); err != nil {
		log.Warn("ack not confirmed; the notice may be mailed again (same Message-ID)", "err", err)
	}
}

func (m *Mailer) term(msg jetstream.Msg, reason string) {
	if err := msg.TermWithReason(reason); err != nil {
		m.log.Warn("term failed; JetStream redelivers after the ack wait", "subject", msg.Subject(), "err", err)
	}
}
