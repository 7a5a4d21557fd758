package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"ledger/api/wire"
)

// dispute is the API's answer about a dispute (CONTRACT 3.3).
type dispute = wire.Dispute

func disputesOpen(fs *flag.FlagSet) action {
	invoice := fs.String("invoice", "", "the invoice disputed; required")
	id := fs.String("id", "", "the dispute's id: opening it twice opens it once; required")
	amount := fs.String("amount", "", "the part of the invoice's amount owed disputed, in EUR with VAT as the total is, e.g. 30.25; required")
	reason := fs.String("reason", "", "why, as the customer wrote it; required (T&C 3.11)")
	at := fs.String("at", "", "when the customer disputed it, RFC 3339 (default: now)")
	return func(ctx context.Context, inv *invocation) error {
		switch {
		case *invoice == "":
			return usagef("--invoice is required")
		case *id == "":
			return usagef("--id is required")
		case *amount == "":
			return usagef("--amount is required")
		case *reason == "":
			return usagef("--reason is required")
		}
		body := struct {
			ID     string `json:"id"`
			Amount string `json:"amount"`
			Reason string `json:"reason"`
			At     string `json:"at,omitempty"`
		}{*id, *amount, *reason, *at}
		return postDispute(ctx, inv, "/v1/invoices/"+url.PathEscape(*invoice)+"/disputes", body, "opened")
	}
}

func disputesResolve(fs *flag.FlagSet) action {
	id := fs.String("id", "", "the dispute; required")
	outcome := fs.String("outcome", "", "accepted (a credit note for it) or rejected (due at once); required")
	return func(ctx context.Context, inv *invocation) error {
		switch {
		case *id == "":
			return usagef("--id is required")
		case *outcome == "":
			return usagef("--outcome is required")
		}
		body := map[string]string{"outcome": *outcome}
		return postDispute(ctx, inv, "/v1/disputes/"+url.PathEscape(*id)+"/resolve", body, "resolved")
	}
}

func postDispute(ctx context.Context, inv *invocation, path string, body any, done string) error {
	var d dispute
	status, printed, err := inv.answer(ctx, http.MethodPost, path, nil, body, &d)
	if err != nil || printed {
		return err
	}
	if done == "opened" && status != http.StatusCreated {
		done = "opened before with this id; nothing changed"
	}
	return writeDispute(inv.stdout, d, done)
}

// disputesShow shows a dispute and where it stands (R7).
func disputesShow(fs *flag.FlagSet) action {
	return func(ctx context.Context, inv *invocation) error {
		var d dispute
		_, printed, err := inv.answer(ctx, http.MethodGet, "/v1/disputes/"+url.PathEscape(inv.args[0]), nil, nil, &d)
		if err != nil || printed {
			return err
		}
		return writeDispute(inv.stdout, d, d.Status)
	}
}

func writeDispute(w io.Writer, d dispute, done string) error {
	fmt.Fprintf(w, "Dispute %s (%s)\n\n", d.ID, done)
	return writeFields(w,
		field{"invoice", d.Invoice},
		field{"account", d.Account},
		field{"amount", d.Amount + " (with VAT: held back while open)"},
		field{"reason", d.Reason},
		field{"status", d.Status},
		field{"opened at", d.OpenedAt},
		field{"resolved at", d.ResolvedAt},
		field{"credit note", d.CreditNote},
	)
}
