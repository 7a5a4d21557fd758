package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"ledger/api/wire"
	"ledger/billing"
	"ledger/ledger"
	"ledger/money"
)

type lotJSON = wire.Lot

func lotOf(v billing.LotView) lotJSON {
	return lotJSON{ID: v.ID, Amount: money.FormatInvoice(v.Amount.Decimal()), Remaining: v.Remaining.String(),
		ReceivedAt: v.ReceivedAt.Format(time.RFC3339Nano), UsableFrom: v.UsableFrom.Format(time.RFC3339),
		ExpiresAt: v.ExpiresAt.Format(time.RFC3339), State: string(v.State), Method: v.Method,
		ChargedBack: v.ChargedBack.String(), Expired: v.Expired.String()}
}

// prepaidOf reads the prepaid block of an account (CONTRACT 3.1); postpaid accounts show zeros.
func (s *Server) prepaidOf(ctx context.Context, v billing.AccountView) (prepaidJSON, error) {
	out := prepaidJSON{Usable: "0.00", Pending: "0.00", Shortfall: "0.00", ChargebacksOwed: "0.00", Lots: []lotJSON{}}
	if v.Type != ledger.Prepaid {
		return out, nil
	}
	p, err := s.Billing.Lots.Prepaid(ctx, v.ID)
	if err != nil {
		return out, err
	}
	out.Usable, out.Pending, out.Shortfall, out.ChargebacksOwed = p.Usable.String(), p.Pending.String(), p.Shortfall.String(), p.ChargebacksOwed.String()
	for _, l := range p.Lots {
		out.Lots = append(out.Lots, lotOf(l))
	}
	return out, nil
}

// topUp books a top-up of a prepaid account (CONTRACT 3.2; R9, T&C 3.13): a lot, usable from
// 00:00 Amsterdam the day after receipt, expiring 12 months after. Idempotent on id.
func (s *Server) topUp(w http.ResponseWriter, r *http.Request, who principal) error {
	var req ledger.NewTopUp
	if err := decode(r, &req); err != nil {
		return err
	}
	id := r.PathValue("id")
	lot, created, err := s.Billing.TopUp(r.Context(), id, req, who.Name)
	if err != nil {
		return err
	}
	s.written(w, r, created, lotOf(lot), slog.LevelInfo, "top-up booked", "account", id, "topup", lot.ID,
		"amount", lot.Amount.String(), "usable_from", lot.UsableFrom, "by", who.Name)
	return nil
}

// listTopUps lists an account's lots, oldest first.
func (s *Server) listTopUps(w http.ResponseWriter, r *http.Request, _ principal) error {
	id := r.PathValue("id")
	if _, err := s.Billing.Accounts.Account(r.Context(), id); err != nil {
		return err
	}
	after, limit, err := page(r)
	if err != nil {
		return err
	}
	lots, err := s.Billing.Lots.Lots(r.Context(), id)
	if err != nil {
		return err
	}
	items := make([]lotJSON, 0, min(len(lots), limit))
	var last int64
	for _, l := range lots {
		if l.Seq <= after || len(items) == limit {
			continue
		}
		items = append(items, lotOf(l))
		last = l.Seq
	}
	writeJSON(w, http.StatusOK, list{Items: items, Next: nextCursor(len(items), limit, last)})
	return nil
}

type chargebackJSON = wire.Chargeback

// chargeback books a reversed card top-up (CONTRACT 3.2; R10, T&C 3.14).
func (s *Server) chargeback(w http.ResponseWriter, r *http.Request, who principal) error {
	var req ledger.NewChargeback
	if err := decode(r, &req); err != nil {
		return err
	}
	id := r.PathValue("id")
	v, created, err := s.Billing.Chargeback(r.Context(), id, req, who.Name)
	if err != nil {
		return err
	}
	s.written(w, r, created, chargebackJSON{ID: v.ID, Account: v.Account, TopUpID: v.TopUpID, Amount: money.FormatInvoice(v.Amount.Decimal()),
		SetOff: v.SetOff.String(), Owed: v.Owed.String(), At: v.At.Format(time.RFC3339Nano), Closed: v.Closed},
		slog.LevelWarn, "chargeback booked: the customer is in default (T&C 3.14)", "account", id, "chargeback", v.ID,
		"topup", v.TopUpID, "amount", v.Amount.String(), "owed", v.Owed.String(), "closed", v.Closed, "by", who.Name)
	return nil
}

// refund refuses: prepaid balances are non-refundable (R9, T&C 3.13).
func (s *Server) refund(w http.ResponseWriter, r *http.Request, _ principal) error {
	return s.Billing.Refund(r.Context(), r.PathValue("id"))
}
