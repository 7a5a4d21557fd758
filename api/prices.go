package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"ledger/api/wire"
	"ledger/billing"
	"ledger/clock"
	"ledger/ledger"
	"ledger/pricing"
)

type priceJSON = wire.Price

type indexationJSON = wire.Indexation

func priceRowJSON(p pricing.PriceRow) priceJSON {
	return priceJSON{Channel: p.Channel, Product: p.Product, Direction: p.Direction, Prefix: p.Prefix,
		Country: p.Country, UnitPrice: p.UnitPrice.String(), MinSeconds: p.MinSeconds, IncrementSeconds: incrementOf(p),
		ValidFrom: p.ValidFrom.String(), Description: p.Description}
}

type surchargeJSON = wire.Surcharge

// prices answers the prices in force at ?at= (an RFC 3339 time, or a date: its start in
// Amsterdam; default now), indexation applied (CONTRACT 3.8, R3). With ?account= they are the
// prices that account pays: its agreed prices first (T&C 2.7), and no indexation if it opted
// out (T&C 3.4).
func (s *Server) prices(w http.ResponseWriter, r *http.Request, _ principal) error {
	at := s.Billing.Now()
	if v := r.URL.Query().Get("at"); v != "" {
		var err error
		if at, err = parseInstant("at", v); err != nil {
			d, derr := clock.ParseDate(v)
			if derr != nil {
				return ledger.Errorf(ledger.CodeInvalid, "at %q is neither an RFC 3339 time nor a date YYYY-MM-DD", v)
			}
			at = d.Start().UTC()
		}
	}
	t := s.Billing.Charging.Tariffs()
	if t == nil {
		return fmt.Errorf("no tariffs loaded")
	}
	var terms pricing.Terms
	account := r.URL.Query().Get("account")
	if account != "" {
		if _, err := s.Billing.Accounts.Account(r.Context(), account); err != nil {
			return err
		}
		terms = s.Billing.Charging.Accounts.Terms(account) // what rating uses
	}
	inForce, err := t.PricesInForce(at, terms)
	if errors.Is(err, pricing.ErrMissingCPI) {
		return ledger.Refusef("T&C 3.4", "prices at %s: %v", at.Format(time.RFC3339), err)
	}
	if err != nil {
		return err
	}
	// Paged by position: the prices in force at one instant are a fixed, ordered list.
	after, limit, err := page(r)
	if err != nil {
		return err
	}
	start := min(int(after), len(inForce))
	end := min(start+limit, len(inForce))
	next := ""
	if end < len(inForce) {
		next = strconv.Itoa(end)
	}
	items := make([]priceJSON, 0, end-start)
	for _, p := range inForce[start:end] {
		j := priceRowJSON(p.PriceRow)
		j.ListedPrice, j.Agreed = p.ListedPrice.String(), p.Agreed
		for _, ix := range p.Indexations {
			j.Indexations = append(j.Indexations, indexationJSON{On: ix.On.String(), CPIYear: ix.Year, Change: ix.Change.String()})
		}
		items = append(items, j)
	}
	surcharges := []surchargeJSON{}
	for _, p := range t.SurchargesAt(at) {
		surcharges = append(surcharges, surchargeJSON{Channel: p.Channel, Product: p.Product, Direction: p.Direction,
			Prefix: p.Prefix, Country: p.Country, UnitPrice: p.UnitPrice.String(), AppliesTo: p.AppliesTo,
			ValidFrom: p.ValidFrom.String(), Description: p.Description})
	}
	out := map[string]any{"at": at.Format(time.RFC3339Nano), "items": items, "surcharges": surcharges, "next": next}
	if account != "" {
		out["account"] = account
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func incrementOf(p pricing.PriceRow) int64 {
	if p.Channel != "voice" {
		return 0
	}
	return p.IncrementSeconds
}

type agreementJSON = wire.Agreement

func writeAgreement(w http.ResponseWriter, v billing.AgreementView) {
	items := make([]priceJSON, len(v.Rows))
	for i, p := range v.Rows {
		items[i] = priceRowJSON(p)
	}
	writeJSON(w, http.StatusOK, agreementJSON{Account: v.Account, Version: v.Version, Rows: len(v.Rows), Indexation: v.Indexation,
		CreatedAt: v.CreatedAt.Format(time.RFC3339Nano), CreatedBy: v.CreatedBy, Items: items})
}

// putAgreement makes a text/csv body in the prices.csv form the account's agreed prices
// (CONTRACT 3.1, T&C 2.7): 200 with the agreement in force. A wrong list is refused whole, 400,
// naming each wrong line.
func (s *Server) putAgreement(w http.ResponseWriter, r *http.Request, who principal) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return ledger.Errorf(ledger.CodeInvalid, "the price list is larger than %d bytes", MaxRequestBytes)
		}
		return ledger.Errorf(ledger.CodeInvalid, "request body: %v", err)
	}
	id := r.PathValue("id")
	v, created, err := s.Billing.PutAgreement(r.Context(), id, string(body), who.Name)
	if err != nil {
		return err
	}
	if created && s.Log != nil {
		s.Log.Info("agreed prices", "account", id, "version", v.Version, "rows", len(v.Rows), "by", who.Name)
	}
	writeAgreement(w, v)
	return nil
}

// getAgreement answers the account's agreed prices in force; 404 when it pays the list prices.
func (s *Server) getAgreement(w http.ResponseWriter, r *http.Request, _ principal) error {
	v, err := s.Billing.Agreements.Agreement(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeAgreement(w, v)
	return nil
}
