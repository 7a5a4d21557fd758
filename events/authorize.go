package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"

	"ledger/clock"
	"ledger/ledger"
	"ledger/money"
	"ledger/pricing"
)

// AuthorizeSubject is the NATS request–reply subject of authorisation (CONTRACT 3.4).
const AuthorizeSubject = "billing.authorize"

// AuthorizeQueue is the queue group of the responders, so that several could share the load.
const AuthorizeQueue = "ledger"

// MaxAuthorizeBytes bounds an authorisation request.
const MaxAuthorizeBytes = 4 << 10

// AuthorizeRequest asks whether an account may send (CONTRACT 3.4).
type AuthorizeRequest struct {
	Account     string `json:"account"`
	Channel     string `json:"channel"`
	Product     string `json:"product,omitempty"`
	Direction   string `json:"direction,omitempty"`
	Destination string `json:"destination,omitempty"`
	Quantity    int64  `json:"quantity"`
	CallerID    string `json:"caller_id,omitempty"`
}

// AuthorizeResponse is the answer.
type AuthorizeResponse struct {
	Allowed  bool   `json:"allowed"`
	Reason   string `json:"reason"`
	Estimate string `json:"estimate"`
	Error    string `json:"error,omitempty"` // only when the request itself is invalid
}

// Authorizer answers from memory: the credit book and the tariffs, no database read.
type Authorizer struct {
	Book    *ledger.CreditBook
	Charger *Charger // for the tariffs in use
	Clock   clock.Clock
	Log     *slog.Logger
}

// Authorize decides (R4; R9 for prepaid). The error is for an invalid request.
func (a *Authorizer) Authorize(req AuthorizeRequest) (AuthorizeResponse, error) {
	if !ledger.ValidAccountID(req.Account) {
		return AuthorizeResponse{}, ledger.Errorf(ledger.CodeInvalid, "account %q is not an account id", req.Account)
	}
	if !ledger.ValidChannel(req.Channel) {
		return AuthorizeResponse{}, ledger.Errorf(ledger.CodeInvalid, "channel %q must be one of %v", req.Channel, ledger.Channels)
	}
	if req.Quantity < 0 || req.Quantity > ledger.MaxQuantity {
		return AuthorizeResponse{}, ledger.Errorf(ledger.CodeInvalid, "quantity must be 0…%d", ledger.MaxQuantity)
	}
	direction := req.Direction
	if direction == "" {
		direction = ledger.OutboundDirection
	}
	credit, found := a.Book.Get(req.Account)
	rating, err := a.Charger.Tariffs().Rate(pricing.Usage{Channel: req.Channel, Product: req.Product, Direction: direction,
		Destination: req.Destination, Quantity: req.Quantity, CallerID: req.CallerID, At: a.Clock.Now(),
		Terms: a.Book.Terms(req.Account)})
	if err != nil {
		switch {
		case errors.Is(err, pricing.ErrNoPrice):
			return AuthorizeResponse{Reason: string(ledger.ReasonNoPrice), Estimate: money.Micros(0).String()}, nil
		case errors.Is(err, pricing.ErrMissingCPI):
			return AuthorizeResponse{Reason: string(ledger.ReasonMissingCPI), Estimate: money.Micros(0).String()}, nil
		}
		return AuthorizeResponse{}, ledger.Errorf(ledger.CodeInvalid, "%v", err)
	}
	estimate, err := money.ToMicros(rating.Total)
	if err != nil {
		return AuthorizeResponse{}, err
	}
	d := ledger.Authorize(credit, found, estimate)
	return AuthorizeResponse{Allowed: d.Allowed, Reason: d.Reason, Estimate: d.Estimate.String()}, nil
}

// Serve answers billing.authorize requests until ctx is cancelled.
func (a *Authorizer) Serve(ctx context.Context, nc *nats.Conn) error {
	sub, err := nc.QueueSubscribe(AuthorizeSubject, AuthorizeQueue, func(m *nats.Msg) {
		var resp AuthorizeResponse
		var req AuthorizeRequest
		switch {
		case len(m.Data) > MaxAuthorizeBytes:
			resp.Error = fmt.Sprintf("request larger than %d bytes", MaxAuthorizeBytes)
		default:
			if err := json.Unmarshal(m.Data, &req); err != nil {
				resp.Error = "request is not the JSON of CONTRACT 3.4: " + err.Error()
				break
			}
			r, err := a.Authorize(req)
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
