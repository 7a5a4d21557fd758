package service_test

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"ledger/notify"
	"ledger/service"
)

// inbox is a real SMTP server's backend (go-smtp on a loopback port) that keeps what it accepts.
type inbox struct {
	mu    sync.Mutex
	mails []string // "to\r\n" + the message
}

func (b *inbox) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &inboxSession{box: b}, nil }

func (b *inbox) received() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.mails...)
}

type inboxSession struct {
	box *inbox
	to  []string
}

func (s *inboxSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (s *inboxSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *inboxSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.box.mu.Lock()
	s.box.mails = append(s.box.mails, strings.Join(s.to, ",")+"\r\n"+string(data))
	s.box.mu.Unlock()
	return nil
}
func (s *inboxSession) Reset()        { s.to = nil }
func (s *inboxSession) Logout() error { return nil }

// T&C 3.5, R4: the customer is e-mailed when its exposure crosses a threshold, and when it is
// suspended — from usage published to NATS to a mail in a real SMTP server's inbox.
func TestMail_T3_5_threshold_and_suspension_mailed(t *testing.T) {
	box := &inbox{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := gosmtp.NewServer(box)
	srv.Domain = "mx.test"
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	e := start(t, func(c *service.Config) {
		c.SMTP = notify.Config{Addr: l.Addr().String(), From: "billing@ledger.test", RetryDelay: 50 * time.Millisecond}
	})
	e.createAccount("mailed", map[string]any{"credit_limit": "1.00", "email": "finance@mailed.test"})
	e.createAccount("silent", map[string]any{"credit_limit": "1.00"}) // no e-mail: nothing to send
	e.smsBatch("silent", 0, 11)
	e.smsBatch("mailed", 0, 11) // 0.825: 80 %
	e.waitUnbilled("mailed", "0.825000")
	e.eventually(15*time.Second, func() error {
		if n := len(box.received()); n != 1 {
			return fmt.Errorf("%d mails, want 1 (the 80 %% notice)", n)
		}
		return nil
	})
	mail := box.received()[0]
	for _, want := range []string{"finance@mailed.test", "billing@ledger.test", "mailed", "80", "T&C 3.5"} {
		if !strings.Contains(mail, want) {
			t.Errorf("the threshold mail does not contain %q:\n%s", want, mail)
		}
	}
	e.smsBatch("mailed", 11, 3) // 1.05: 90 % and suspended
	e.eventually(15*time.Second, func() error {
		if n := len(box.received()); n != 3 {
			return fmt.Errorf("%d mails, want 3 (80 %%, 90 %%, suspended)", n)
		}
		return nil
	})
	if !strings.Contains(box.received()[2], "T&C 3.6") {
		t.Errorf("the third mail is not the suspension:\n%s", box.received()[2])
	}
}
