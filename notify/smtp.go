package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"time"
)

// SMTP stages, named in errors and logs.
const (
	stageConnect  = "connect"
	stageHello    = "hello"
	stageStartTLS = "starttls"
	stageAuth     = "auth"
	stageMail     = "mail"
	stageRcpt     = "rcpt"
	stageData     = "data"
)

// deliveryError is a failed hand-over to the SMTP server, with the stage it failed at and whether
// trying again can help.
type deliveryError struct {
	Stage     string
	Permanent bool
	Err       error
}

func (e *deliveryError) Error() string { return fmt.Sprintf("smtp %s: %v", e.Stage, e.Err) }
func (e *deliveryError) Unwrap() error { return e.Err }

// classify decides whether a failure at stage is permanent. Only a 5xx reply to RCPT or DATA
// (the command or the message) is about this mail and final. 4xx replies and network failures
// (refused, reset, timed out) are temporary. A 5xx before RCPT (greeting, EHLO, STARTTLS, AUTH,
// MAIL FROM) says our configuration is wrong, not this mail: it is retried like a temporary
// failure, so that fixing the configuration delivers the notices waiting meanwhile.
func classify(stage string, err error) *deliveryError {
	var reply *textproto.Error
	permanent := errors.As(err, &reply) && reply.Code >= 500 && reply.Code < 600 &&
		(stage == stageRcpt || stage == stageData)
	return &deliveryError{Stage: stage, Permanent: permanent, Err: err}
}

// send hands one message to the SMTP server and returns nil only once the server accepted it
// (250 after DATA). It uses STARTTLS whenever the server offers it, and sends credentials only
// over TLS or to a server on a loopback address. ctx bounds the whole conversation.
func (m *Mailer) send(ctx context.Context, n notice) error {
	dialer := net.Dialer{}
	conn, err := dialer.DialContext(ctx, "tcp", m.cfg.Addr)
	if err != nil {
		return classify(stageConnect, err)
	}
	// net/smtp takes no context: the deadline bounds every read and write, and cancelling ctx
	// moves it to the past, which fails the operation in progress.
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	loopback := false
	if tcp, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		loopback = tcp.IP.IsLoopback()
	}

	client, err := smtp.NewClient(conn, m.host)
	if err != nil {
		conn.Close()
		return classify(stageConnect, err)
	}
	defer client.Close()
	if err := client.Hello(m.helloName); err != nil {
		return classify(stageHello, err)
	}
	if ok, _ := client.Extension("STARTTLS"); ok {
		if err := client.StartTLS(&tls.Config{ServerName: m.host, MinVersion: tls.VersionTLS12}); err != nil {
			return classify(stageStartTLS, err)
		}
	}
	if m.cfg.Username != "" {
		if ok, _ := client.Extension("AUTH"); !ok {
			return classify(stageAuth, errors.New("credentials are configured but the server offers no AUTH"))
		}
		if err := client.Auth(&plainAuth{username: m.cfg.Username, password: m.cfg.Password, loopback: loopback}); err != nil {
			return classify(stageAuth, err)
		}
	}
	if err := client.Mail(m.from.Address); err != nil {
		return classify(stageMail, err)
	}
	if err := client.Rcpt(n.To); err != nil {
		return classify(stageRcpt, err)
	}
	w, err := client.Data()
	if err != nil {
		return classify(stageData, err)
	}
	if _, err := w.Write(n.Data); err != nil {
		return classify(stageData, err)
	}
	// Close sends the final dot and reads the server's reply: 250 means accepted.
	if err := w.Close(); err != nil {
		return classify(stageData, err)
	}
	// The message is accepted; a failing QUIT changes nothing about that.
	_ = client.Quit()
	return nil
}

// plainAuth is SASL PLAIN (RFC 4616) that refuses to send the password in the clear except to a
// server on a loopback address. net/smtp's PlainAuth decides by the host name alone
// ("localhost", "127.0.0.1", "::1"); this one decides by the address actually connected to.
type plainAuth struct {
	username, password string
	loopback           bool
}

func (a *plainAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !a.loopback {
		return "", nil, errors.New("refusing to send credentials over an unencrypted connection " +
			"(the server offers no STARTTLS and is not on a loopback address)")
	}
	return "PLAIN", []byte("\x00" + a.username + "\x00" + a.password), nil
}

func (a *plainAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected challenge from the server during PLAIN authentication")
	}
	return nil, nil
}
