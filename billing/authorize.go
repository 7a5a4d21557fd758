package billing

import (
	"errors"
	"ledger/ledger"
	"ledger/money"
	"ledger/pricing"
)

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

// Authorize says whether an account may send (R4, T&C 3.5; R9 for prepaid), from memory: the
// credit book, which every committed batch updates, and the tariffs in use; no database read.
// The error is for an invalid request.
func (c *Charging) Authorize(req AuthorizeRequest) (AuthorizeResponse, error) {
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
	credit, found := c.Accounts.Get(req.Account)
	rating, err := c.Tariffs().Rate(pricing.Usage{Channel: req.Channel, Product: req.Product, Direction: direction,
		Destination: req.Destination, Quantity: req.Quantity, CallerID: req.CallerID, At: c.Clock.Now(),
		Terms: c.Accounts.Terms(req.Account)})
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
