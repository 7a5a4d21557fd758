package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/url"
)

// payment is the API's answer to a payment (CONTRACT 3.2).
type payment struct {
	ID          string `json:"id"`
	Account     string `json:"account"`
	Amount      string `json:"amount"`
	ReceivedAt  string `json:"received_at"`
	Invoice     string `json:"invoice_id"`
	SEPA        bool   `json:"sepa"`
	Allocations []struct {
		Invoice string `json:"invoice_id"`
		Amount  string `json:"amount"`
	} `json:"allocations"`
	Credit string `json:"credit"`
}

func paymentsAdd(fs *flag.FlagSet) action {
	account := fs.String("account", "", "the account that paid; required")
	id := fs.String("id", "", "the payment's id, e.g. the bank reference: booking it twice books it once; required")
	amount := fs.String("amount", "", "the amount received in EUR, in cents, e.g. 90.75; required")
	receivedAt := fs.String("received-at", "", "when it was received, RFC 3339 (default: now)")
	invoice := fs.String("invoice", "", "the invoice it pays first (default: the oldest open ones, T&C 3.9)")
	nonSEPA := fs.Bool("non-sepa", false, "the payment did not come by SEPA transfer")
	return func(ctx context.Context, inv *invocation) error {
		switch {
		case *account == "":
			return usagef("--account is required")
		case *id == "":
			return usagef("--id is required")
		case *amount == "":
			return usagef("--amount is required")
		}
		body := struct {
			ID         string `json:"id"`
			Amount     string `json:"amount"`
			ReceivedAt string `json:"received_at,omitempty"`
			Invoice    string `json:"invoice_id,omitempty"`
			SEPA       *bool  `json:"sepa,omitempty"`
		}{ID: *id, Amount: *amount, ReceivedAt: *receivedAt, Invoice: *invoice}
		if *nonSEPA {
			body.SEPA = new(bool)
		}
		var p payment
		raw, status, err := inv.client.call(ctx, http.MethodPost, "/v1/accounts/"+url.PathEscape(*account)+"/payments", nil, body, &p)
		if err != nil {
			return err
		}
		if inv.json {
			_, err := inv.stdout.Write(raw)
			return err
		}
		return writePayment(inv, p, status == http.StatusCreated)
	}
}

func writePayment(inv *invocation, p payment, created bool) error {
	booked := "booked"
	if !created {
		booked = "booked before with this id; nothing changed"
	}
	sepa := "yes"
	if !p.SEPA {
		sepa = "no"
	}
	w := inv.stdout
	fmt.Fprintf(w, "Payment %s (%s)\n\n", p.ID, booked)
	writeFields(w,
		field{"account", p.Account},
		field{"amount", p.Amount},
		field{"received at", p.ReceivedAt},
		field{"SEPA", sepa},
		field{"for invoice", p.Invoice},
	)
	fmt.Fprintln(w)
	if len(p.Allocations) == 0 {
		fmt.Fprintln(w, "allocated to no invoice")
	} else {
		t := newTable("INVOICE", "ALLOCATED").alignRight(1)
		for _, a := range p.Allocations {
			t.add(a.Invoice, a.Amount)
		}
		if err := t.write(w); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "\ncredit left  %s\n", p.Credit)
	return err
}
