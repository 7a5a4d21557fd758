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

// claim is a claim for damages and the answer it got (CONTRACT 3.5): what was granted, and the
// liability as the claim left it. What was not granted is refused; message says why (T&C 8.4).
type claim = wire.Claim

// liability is an account's liability (CONTRACT 3.5). FirstIncidentAt is nil before the first
// claim: the cap and Paid12m are then what an incident now would fix.
type liability = wire.Liability

func claimsPath(account string) string { return "/v1/accounts/" + url.PathEscape(account) + "/claims" }

func claimsFile(fs *flag.FlagSet) action {
	id := fs.String("id", "", "the claim's id: filing it twice files it once; required")
	amount := fs.String("amount", "", "the damages claimed in EUR, in cents, e.g. 250.00; required")
	incident := fs.String("incident", "", "when the event giving rise to the claim happened, RFC 3339; required (T&C 8.4)")
	reason := fs.String("reason", "", "what happened, as the customer wrote it; required")
	return func(ctx context.Context, inv *invocation) error {
		if err := required("id", *id, "amount", *amount, "incident", *incident, "reason", *reason); err != nil {
			return err
		}
		body := struct {
			ID         string `json:"id"`
			Amount     string `json:"amount"`
			IncidentAt string `json:"incident_at"`
			Reason     string `json:"reason"`
		}{*id, *amount, *incident, *reason}
		var c claim
		raw, status, err := inv.client.call(ctx, http.MethodPost, claimsPath(inv.args[0]), nil, body, &c)
		if err != nil {
			return err
		}
		if inv.json {
			_, err := inv.stdout.Write(raw)
			return err
		}
		return writeClaim(inv.stdout, c, status == http.StatusCreated)
	}
}

// writeClaim prints a claim's answer. A refusal is part of it, not an error: the claim is on
// file either way (T&C 8.4).
func writeClaim(w io.Writer, c claim, created bool) error {
	filed := "filed"
	if !created {
		filed = "filed before with this id; nothing changed"
	}
	fmt.Fprintf(w, "Claim %s (%s)\n\n", c.ID, filed)
	writeFields(w,
		field{"account", c.Account},
		field{"amount", c.Amount},
		field{"incident at", c.IncidentAt},
		field{"reason", c.Reason},
		field{"granted", c.Granted},
		field{"refused", c.Refused},
	)
	fmt.Fprintln(w)
	writeFields(w,
		field{"cap", c.Cap},
		field{"paid in 12 months", c.Paid12m},
		field{"granted total", c.GrantedTotal},
		field{"remaining", c.Remaining},
		field{"first incident", c.FirstIncidentAt},
	)
	if c.Message == "" {
		return nil
	}
	_, err := fmt.Fprintf(w, "\nrefused: %s\n", c.Message)
	return err
}

func claimsList(fs *flag.FlagSet) action {
	return func(ctx context.Context, inv *invocation) error {
		t := newTable("CLAIM", "INCIDENT AT", "AMOUNT", "GRANTED", "REFUSED", "REMAINING", "FILED AT", "REASON").alignRight(2, 3, 4, 5)
		var claimed, granted, refused amounts
		n, printed, err := listRows(ctx, inv, claimsPath(inv.args[0]), nil, func(c claim) error {
			t.add(c.ID, c.IncidentAt, c.Amount, c.Granted, c.Refused, c.Remaining, c.CreatedAt, c.Reason)
			for _, a := range []struct {
				sum    *amounts
				amount string
			}{{&claimed, c.Amount}, {&granted, c.Granted}, {&refused, c.Refused}} {
				if err := a.sum.add("EUR", a.amount); err != nil {
					return fmt.Errorf("claim %s: %w", c.ID, err)
				}
			}
			return nil
		})
		if err != nil || printed {
			return err
		}
		if n > 0 {
			if err := t.write(inv.stdout); err != nil {
				return err
			}
		}
		_, err = fmt.Fprintf(inv.stdout, "%s  claimed %s  granted %s  refused %s\n",
			plural(n, "claim", "claims"), &claimed, &granted, &refused)
		return err
	}
}

func liabilityShow(fs *flag.FlagSet) action {
	return func(ctx context.Context, inv *invocation) error {
		account := inv.args[0]
		var l liability
		raw, _, err := inv.client.call(ctx, http.MethodGet, "/v1/accounts/"+url.PathEscape(account)+"/liability", nil, nil, &l)
		if err != nil {
			return err
		}
		if inv.json {
			_, err := inv.stdout.Write(raw)
			return err
		}
		first := "none yet: the cap is what an incident now would fix; the first claim fixes it"
		if l.FirstIncidentAt != nil {
			first = *l.FirstIncidentAt
		}
		w := inv.stdout
		fmt.Fprintf(w, "Liability of %s (R12, T&C 8.4)\n\n", account)
		return writeFields(w,
			field{"cap", l.Cap},
			field{"paid in 12 months", l.Paid12m},
			field{"granted total", l.GrantedTotal},
			field{"remaining", l.Remaining},
			field{"first incident", first},
			field{"window", l.WindowFrom + " to " + l.WindowTo},
			field{"claims", fmt.Sprint(l.Claims)},
		)
	}
}
