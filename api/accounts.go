package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"ledger/api/wire"
	"ledger/billing"
	"ledger/invoices"
	"ledger/ledger"
	"ledger/money"
)

type prepaidJSON = wire.Prepaid

type accountJSON = wire.Account

func (s *Server) accountJSON(ctx context.Context, v billing.AccountView) (accountJSON, error) {
	now := s.Billing.Now()
	exposure, status := s.Billing.Standing(v)
	prepaid, err := s.prepaidOf(ctx, v)
	if err != nil {
		return accountJSON{}, err
	}
	out := accountJSON{
		ID: v.ID, Name: v.Name, Type: string(v.Type), Status: string(status), Country: v.Country,
		VATID: v.VATID, Email: v.Email,
		CreditLimit:          money.FormatInvoice(v.CreditLimit),
		Exposure:             exposure.String(),
		Unbilled:             v.Unbilled.String(),
		Outstanding:          money.FormatInvoice(v.Outstanding.Decimal()),
		Prepaid:              prepaid,
		ClosedReason:         v.ClosedReason,
		PaymentTermsDays:     v.PaymentTermsDays,
		Indexation:           v.Indexation,
		RegisteredAt:         v.RegisteredAt.Format(time.RFC3339),
		RenewalDate:          v.RenewalDate(now).String(),
		NoticeDeadline:       v.NoticeDeadline(now).String(),
		InvalidCallerIDCalls: v.InvalidCallerIDCalls,
		CreatedAt:            v.CreatedAt.Format(time.RFC3339Nano),
		CreatedBy:            v.CreatedBy,
	}
	if !v.ClosedAt.IsZero() {
		out.ClosedAt = v.ClosedAt.Format(time.RFC3339Nano)
	}
	if !v.Address.IsZero() {
		out.Address = &v.Address
	}
	out.PeppolID = v.PeppolID
	if v.Type == ledger.Postpaid { // a prepaid account is not invoiced (R9)
		out.InvoiceDetailsMissing = invoices.MissingForPEPPOL(invoices.Party{Country: v.Country, VATID: v.VATID, Email: v.Email,
			Street: v.Address.Street, City: v.Address.City, PostalCode: v.Address.PostalCode, PeppolID: v.PeppolID}, s.Seller.Country)
	}
	return out, nil
}

// changeAccount changes an account's name, e-mail, VAT id, address or PEPPOL id (CONTRACT 3.1,
// finance): the next invoices print them; those issued keep what they printed.
func (s *Server) changeAccount(w http.ResponseWriter, r *http.Request, who principal) error {
	var req ledger.AccountChange
	if err := decode(r, &req); err != nil {
		return err
	}
	view, err := s.Billing.ChangeAccount(r.Context(), r.PathValue("id"), req)
	if err != nil {
		return err
	}
	out, err := s.accountJSON(r.Context(), view)
	if err != nil {
		return err
	}
	if s.Log != nil {
		s.Log.Info("account details changed", "account", view.ID, "by", who.Name)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) createAccount(w http.ResponseWriter, r *http.Request, who principal) error {
	var req ledger.NewAccount
	if err := decode(r, &req); err != nil {
		return err
	}
	billing.AuditAccount(r.Context(), req.ID)
	view, created, err := s.Billing.CreateAccount(r.Context(), req, who.Name)
	if err != nil {
		return err
	}
	out, err := s.accountJSON(r.Context(), view)
	if err != nil {
		return err
	}
	s.written(w, r, created, out, slog.LevelInfo, "account created", "account", view.ID, "type", view.Type, "by", who.Name)
	return nil
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request, _ principal) error {
	v, err := s.Billing.Accounts.Account(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	out, err := s.accountJSON(r.Context(), v)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request, _ principal) error {
	after, limit, err := page(r)
	if err != nil {
		return err
	}
	views, err := s.Billing.Accounts.Accounts(r.Context(), after, limit)
	if err != nil {
		return err
	}
	items := make([]accountJSON, len(views))
	var last int64
	for i, v := range views {
		if items[i], err = s.accountJSON(r.Context(), v); err != nil {
			return err
		}
		last = v.Seq
	}
	writeJSON(w, http.StatusOK, list{Items: items, Next: nextCursor(len(items), limit, last)})
	return nil
}

type entryJSON = wire.Entry

// listEntries lists an account's journal entries, ?from= and ?to= bounding the transaction time.
func (s *Server) listEntries(w http.ResponseWriter, r *http.Request, _ principal) error {
	id := r.PathValue("id")
	if _, err := s.Billing.Accounts.Account(r.Context(), id); err != nil {
		return err
	}
	after, limit, err := page(r)
	if err != nil {
		return err
	}
	from, to := time.Unix(0, 0).UTC(), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	if v := r.URL.Query().Get("from"); v != "" {
		if from, err = parseInstant("from", v); err != nil {
			return err
		}
	}
	if v := r.URL.Query().Get("to"); v != "" {
		if to, err = parseInstant("to", v); err != nil {
			return err
		}
	}
	entries, err := s.Billing.Accounts.Entries(r.Context(), id, from, to, after, limit)
	if err != nil {
		return err
	}
	items := make([]entryJSON, len(entries))
	var last int64
	for i, e := range entries {
		items[i] = entryOf(e)
		last = e.ID
	}
	writeJSON(w, http.StatusOK, list{Items: items, Next: nextCursor(len(items), limit, last)})
	return nil
}

// entryOf is a journal entry as the API and the console show it.
func entryOf(e billing.EntryView) entryJSON {
	return entryJSON{ID: e.ID, TransactionID: e.TransactionID, Kind: e.Kind, At: e.At.Format(time.RFC3339Nano),
		LedgerAccount: e.LedgerAccount, Amount: e.Amount.String(), Events: e.Events, Memo: e.Memo}
}
