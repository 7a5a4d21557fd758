package api

import (
	"log/slog"
	"net/http"
	"time"

	"ledger/api/wire"
	"ledger/billing"
	"ledger/ledger"
	"ledger/money"
)

type claimJSON = wire.Claim

// amountEUR formats an amount of a claim or the liability: 2 decimals, as invoice amounts.
func amountEUR(m money.Micros) string { return money.FormatInvoice(m.Decimal()) }

func claimOf(v billing.ClaimView) claimJSON {
	out := claimJSON{ID: v.ID, Account: v.Account, Amount: amountEUR(v.Amount), IncidentAt: v.IncidentAt.Format(time.RFC3339Nano),
		Reason: v.Reason, Granted: amountEUR(v.Granted), Refused: amountEUR(v.Refused()), Cap: amountEUR(v.Liability.Cap),
		Paid12m: amountEUR(v.Liability.Paid12m), GrantedTotal: amountEUR(v.Liability.Granted), Remaining: amountEUR(v.Liability.Remaining()),
		FirstIncidentAt: v.Liability.FirstIncident.Format(time.RFC3339Nano), CreatedAt: v.CreatedAt.Format(time.RFC3339Nano)}
	if refusal := v.Refusal(); refusal != nil {
		out.Message, out.Clause = refusal.Error(), ledger.ClauseLiability
	}
	return out
}

// fileClaim files a claim for damages (CONTRACT 3.5; R12, T&C 8.4). It is granted what the
// liability cap leaves of it, as a credit set off against the oldest open invoices (R8). What is
// not granted is refused, in the answer and not as an error: 201 with granted (possibly "0.00"),
// refused and the message naming T&C 8.4, so that the claim, the cap and what remains are on
// record. Idempotent on id: a retry answers 200 with the first answer.
func (s *Server) fileClaim(w http.ResponseWriter, r *http.Request, who principal) error {
	var req struct {
		ID         string `json:"id"`
		Amount     string `json:"amount"`
		IncidentAt string `json:"incident_at"`
		Reason     string `json:"reason"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	c := ledger.Claim{ID: req.ID, Reason: req.Reason}
	var err error
	if c.Amount, err = ledger.ParseAmount("amount", req.Amount); err != nil {
		return err
	}
	if req.IncidentAt != "" {
		if c.IncidentAt, err = parseInstant("incident_at", req.IncidentAt); err != nil {
			return err
		}
	}
	id := r.PathValue("id")
	v, created, err := s.Billing.FileClaim(r.Context(), id, c, who.Name)
	if err != nil {
		return err
	}
	s.written(w, r, created, claimOf(v), slog.LevelInfo, "claim filed (T&C 8.4)", "account", id, "claim", v.ID,
		"amount", v.Amount.String(), "granted", v.Granted.String(), "refused", v.Refused().String(),
		"remaining", v.Liability.Remaining().String(), "by", who.Name)
	return nil
}

// listClaims lists an account's claims in the order they were filed, each with its answer.
func (s *Server) listClaims(w http.ResponseWriter, r *http.Request, _ principal) error {
	after, limit, err := idPage(r)
	if err != nil {
		return err
	}
	views, err := s.Billing.Claims.Claims(r.Context(), r.PathValue("id"), after, limit)
	if err != nil {
		return err
	}
	items := make([]claimJSON, len(views))
	last := ""
	for i, v := range views {
		items[i], last = claimOf(v), v.ID
	}
	writeJSON(w, http.StatusOK, list{Items: items, Next: nextID(len(items), limit, last)})
	return nil
}

type liabilityJSON = wire.Liability

// getLiability answers an account's liability cap, what was paid in its window, what was
// granted and what remains (CONTRACT 3.5; R12, T&C 8.4).
func (s *Server) getLiability(w http.ResponseWriter, r *http.Request, _ principal) error {
	v, err := s.Billing.Liability(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := liabilityOf(v)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// liabilityOf is an account's liability as the API and the console show it (CONTRACT 3.5).
func liabilityOf(v billing.LiabilityView) liabilityJSON {
	out := liabilityJSON{Cap: amountEUR(v.Cap), Paid12m: amountEUR(v.Paid12m), GrantedTotal: amountEUR(v.Granted), Remaining: amountEUR(v.Remaining),
		WindowFrom: v.From.Format(time.RFC3339Nano), WindowTo: v.To.Format(time.RFC3339Nano), Claims: v.Claims}
	if !v.FirstIncident.IsZero() {
		first := v.FirstIncident.Format(time.RFC3339Nano)
		out.FirstIncidentAt = &first
	}
	return out
}
