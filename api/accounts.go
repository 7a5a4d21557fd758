package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"ledger/billing"
	"ledger/invoices"
	"ledger/ledger"
	"ledger/money"
)

type prepaidJSON struct {
	Usable          string    `json:"usable"`
	Pending         string    `json:"pending"`
	Shortfall       string    `json:"shortfall"`
	ChargebacksOwed string    `json:"chargebacks_owed"`
	Lots            []lotJSON `json:"lots"`
}

type accountJSON struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Type     string          `json:"type"`
	Status   string          `json:"status"`
	Country  string          `json:"country"`
	VATID    string          `json:"vat_id"`
	Email    string          `json:"email"`
	Address  *ledger.Address `json:"address,omitempty"`
	PeppolID string          `json:"peppol_id,omitempty"`
	// InvoiceDetailsMissing says what the account's invoices need to pass PEPPOL BIS 3.0 and its
	// details lack (invoices.MissingForPEPPOL); they are valid EN 16931 either way.
	InvoiceDetailsMissing []string    `json:"invoice_details_missing,omitempty"`
	CreditLimit           string      `json:"credit_limit"`
	Exposure              string      `json:"exposure"`
	Unbilled              string      `json:"unbilled"`
	Outstanding           string      `json:"outstanding"`
	Prepaid               prepaidJSON `json:"prepaid"`
	PaymentTermsDays      int         `json:"payment_terms_days"`
	Indexation            bool        `json:"indexation"`
	RegisteredAt          string      `json:"registered_at"`
	RenewalDate           string      `json:"renewal_date"`
	NoticeDeadline        string      `json:"notice_deadline"`
	InvalidCallerIDCalls  int64       `json:"invalid_caller_id_calls"`
	ClosedAt              string      `json:"closed_at,omitempty"`
	ClosedReason          string      `json:"closed_reason,omitempty"`
	CreatedAt             string      `json:"created_at"`
	CreatedBy             string      `json:"created_by"`
}

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

type entryJSON struct {
	ID            int64  `json:"id"`
	TransactionID int64  `json:"transaction_id"`
	Kind          string `json:"kind"`
	At            string `json:"at"`
	LedgerAccount string `json:"ledger_account"`
	Amount        string `json:"amount"`
	Events        int    `json:"events,omitempty"`
	Memo          string `json:"memo,omitempty"`
}

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
		items[i] = entryJSON{ID: e.ID, TransactionID: e.TransactionID, Kind: e.Kind, At: e.At.Format(time.RFC3339Nano),
			LedgerAccount: e.LedgerAccount, Amount: e.Amount.String(), Events: e.Events, Memo: e.Memo}
		last = e.ID
	}
	writeJSON(w, http.StatusOK, list{Items: items, Next: nextCursor(len(items), limit, last)})
	return nil
}
