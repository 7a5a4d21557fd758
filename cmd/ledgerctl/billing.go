package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"

	"ledger/api/wire"
)

// billingRuns is the API's answer to POST /v1/billing-runs: the period asked for, and every
// period run to get there (earlier periods not yet run run first).
type billingRuns struct {
	Period string       `json:"period"`
	RanAt  string       `json:"ran_at"`
	Runs   []billingRun `json:"runs"`
}

type billingRun = wire.BillingRun

func billingRunsRun(fs *flag.FlagSet) action {
	period := fs.String("period", "", "the period to invoice (YYYY-MM); it must have ended; required")
	return func(ctx context.Context, inv *invocation) error {
		if *period == "" {
			return usagef("--period is required")
		}
		var answer billingRuns
		raw, _, err := inv.client.call(ctx, http.MethodPost, "/v1/billing-runs", nil, map[string]string{"period": *period}, &answer)
		if err != nil {
			return err
		}
		if inv.json {
			_, err := inv.stdout.Write(raw)
			return err
		}
		return writeBillingRuns(inv.stdout, answer)
	}
}

// writeBillingRuns prints per period run how many invoices it issued and their totals.
func writeBillingRuns(w io.Writer, answer billingRuns) error {
	t := newTable("PERIOD", "RAN AT", "BY", "INVOICES", "NET", "VAT", "TOTAL").alignRight(3, 4, 5, 6)
	var all invoiceTotals
	for _, run := range answer.Runs {
		var totals invoiceTotals
		for _, i := range run.Invoices {
			if err := totals.add(i); err != nil {
				return err
			}
			if err := all.add(i); err != nil {
				return err
			}
		}
		t.add(run.Period, run.RanAt, run.By, fmt.Sprint(totals.count), totals.net.String(), totals.vat.String(), totals.total.String())
	}
	if err := t.write(w); err != nil {
		return err
	}
	if len(answer.Runs) == 1 && answer.Runs[0].RanBefore {
		_, err := fmt.Fprintf(w, "period %s was invoiced before (a period runs once): nothing issued now; %s of that run\n",
			answer.Runs[0].Period, plural(all.count, "invoice", "invoices"))
		return err
	}
	_, err := fmt.Fprintf(w, "%s issued in %s  total %s\n", plural(all.count, "invoice", "invoices"),
		plural(len(answer.Runs), "period", "periods"), &all.total)
	return err
}
