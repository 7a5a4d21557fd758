package api

import (
	"encoding/json"
	"net/http"
	"time"

	"ledger/api/wire"
	"ledger/ledger"
)

type rejectedJSON = wire.Rejected

func validReason(reason string) error {
	if reason == "" {
		return nil
	}
	for _, r := range ledger.Reasons {
		if string(r) == reason {
			return nil
		}
	}
	return ledger.Errorf(ledger.CodeInvalid, "reason %q is not one of %v", reason, ledger.Reasons)
}

func (s *Server) listRejected(w http.ResponseWriter, r *http.Request, _ principal) error {
	reason := r.URL.Query().Get("reason")
	if err := validReason(reason); err != nil {
		return err
	}
	after, limit, err := page(r)
	if err != nil {
		return err
	}
	views, err := s.Billing.Parked.Rejected(r.Context(), reason, after, limit)
	if err != nil {
		return err
	}
	items := make([]rejectedJSON, len(views))
	var last int64
	for i, v := range views {
		var event any = string(v.Payload)
		if json.Valid(v.Payload) {
			event = json.RawMessage(v.Payload)
		}
		items[i] = rejectedJSON{ID: v.ID, EventID: v.EventID, Account: v.Account, Reason: v.Reason, Detail: v.Detail,
			Subject: v.Subject, Event: event, ParkedAt: v.ParkedAt.Format(time.RFC3339Nano), Replays: v.Replays}
		last = v.ID
	}
	writeJSON(w, http.StatusOK, list{Items: items, Next: nextCursor(len(items), limit, last)})
	return nil
}

// replay charges the parked events whose cause is fixed (R1), optionally only one reason's.
func (s *Server) replay(w http.ResponseWriter, r *http.Request, who principal) error {
	var body struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &body); err != nil {
			return err
		}
	}
	if err := validReason(body.Reason); err != nil {
		return err
	}
	res, err := s.Billing.Charging.Replay(r.Context(), body.Reason)
	if err != nil {
		return err
	}
	if s.Log != nil {
		s.Log.Info("replay", "reason", body.Reason, "replayed", res.Replayed, "charged", res.Charged, "still_parked", res.StillOpen, "by", who.Name)
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
