package events

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"

	"ledger/billing"
	"ledger/money"
)

// AuthorizeSubject is the NATS request–reply subject of authorisation (CONTRACT 3.4).
const AuthorizeSubject = "billing.authorize"

// AuthorizeQueue is the queue group of the responders, so that several could share the load.
const AuthorizeQueue = "ledger"

// MaxAuthorizeBytes bounds an authorisation request.
const MaxAuthorizeBytes = 4 << 10

// Authorizer answers billing.authorize requests with billing.Charging's decisions.
type Authorizer struct {
	Charging *billing.Charging
	Log      *slog.Logger
}

// Serve answers billing.authorize requests until ctx is cancelled.
func (a *Authorizer) Serve(ctx context.Context, nc *nats.Conn) error {
	sub, err := nc.QueueSubscribe(AuthorizeSubject, AuthorizeQueue, func(m *nats.Msg) {
		var resp billing.AuthorizeResponse
		var req billing.AuthorizeRequest
		switch {
		case len(m.Data) > MaxAuthorizeBytes:
			resp.Error = fmt.Sprintf("request larger than %d bytes", MaxAuthorizeBytes)
		default:
			if err := json.Unmarshal(m.Data, &req); err != nil {
				resp.Error = "request is not the JSON of CONTRACT 3.4: " + err.Error()
				break
			}
			r, err := a.Charging.Authorize(req)
			if err != nil {
				resp.Error = err.Error()
				break
			}
			resp = r
		}
		if resp.Error != "" {
			resp.Reason, resp.Estimate = "invalid", money.Micros(0).String()
		}
		body, _ := json.Marshal(resp)
		if err := m.Respond(body); err != nil && a.Log != nil {
			a.Log.Warn("answer billing.authorize", "err", err)
		}
	})
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", AuthorizeSubject, err)
	}
	<-ctx.Done()
	return sub.Unsubscribe()
}
