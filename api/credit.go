package api

import (
	"net/http"

	"ledger/billing"
	"ledger/ledger"
)

// setCreditLimit raises, lowers or cancels (0) a credit limit with immediate effect (T&C 3.6).
func (s *Server) setCreditLimit(w http.ResponseWriter, r *http.Request, who principal) error {
	var body struct {
		Amount string `json:"amount"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	amount, err := ledger.ParseLimit("amount", body.Amount)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	limit, err := s.Billing.SetCreditLimit(r.Context(), id, amount, who.Name)
	if err != nil {
		return err
	}
	if s.Log != nil {
		s.Log.Info("credit limit set", "account", id, "limit", limit.String(), "by", who.Name)
	}
	return s.getAccount(w, r, who)
}

// authorize answers whether an account may send (CONTRACT 3.4), from memory.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, _ principal) error {
	var req billing.AuthorizeRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	resp, err := s.Billing.Charging.Authorize(req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
