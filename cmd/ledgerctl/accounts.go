package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"ledger/api/wire"
	"ledger/ledger"
)

// account is an account as the API answers it (CONTRACT 3.1).
type account = wire.Account

func accountPath(id string) string { return "/v1/accounts/" + url.PathEscape(id) }

// addressFlags are --street, --city and --postal-code: all three, or none.
type addressFlags struct{ street, city, postalCode *string }

func defineAddress(fs *flag.FlagSet) addressFlags {
	return addressFlags{
		street:     fs.String("street", "", "street and number of the postal address its invoices print (with --city and --postal-code)"),
		city:       fs.String("city", "", "city of the postal address"),
		postalCode: fs.String("postal-code", "", "postal code of the postal address"),
	}
}

// value is the address given, nil when none was.
func (a addressFlags) value() (*ledger.Address, error) {
	if *a.street == "" && *a.city == "" && *a.postalCode == "" {
		return nil, nil
	}
	if *a.street == "" || *a.city == "" || *a.postalCode == "" {
		return nil, usagef("an address needs --street, --city and --postal-code, all three")
	}
	return &ledger.Address{Street: *a.street, City: *a.city, PostalCode: *a.postalCode}, nil
}

func accountsCreate(fs *flag.FlagSet) action {
	name := fs.String("name", "", "the customer's legal name; required")
	typ := fs.String("type", "postpaid", "postpaid (invoiced monthly) or prepaid (pays from top-ups)")
	country := fs.String("country", "NL", "ISO 3166-1 alpha-2 country code: the invoices' VAT depends on it (R5)")
	vatID := fs.String("vat-id", "", "VAT id with its country prefix; required in an EU country other than the Netherlands (R5)")
	email := fs.String("email", "", "where the account's notices are mailed")
	peppolID := fs.String("peppol-id", "", "PEPPOL participant id SCHEME:ID, such as 0106:12345678 (a KvK number)")
	limit := fs.String("credit-limit", "", "credit limit in EUR (default 5000.00, T&C 3.6)")
	terms := fs.Int("payment-terms-days", -1, "payment term in days (default 14, T&C 3.7)")
	noIndexation := fs.Bool("no-indexation", false, "the agreement opts out of the yearly CPI indexation (T&C 3.4)")
	registered := fs.String("registered-at", "", "when the agreement began, RFC 3339 (default now)")
	addr := defineAddress(fs)
	return func(ctx context.Context, inv *invocation) error {
		if *name == "" {
			return usagef("--name is required")
		}
		a, err := addr.value()
		if err != nil {
			return err
		}
		body := map[string]any{"id": inv.args[0], "name": *name, "type": *typ, "country": *country}
		for k, v := range map[string]string{"vat_id": *vatID, "email": *email, "peppol_id": *peppolID, "credit_limit": *limit, "registered_at": *registered} {
			if v != "" {
				body[k] = v
			}
		}
		if a != nil {
			body["address"] = a
		}
		if *terms >= 0 {
			body["payment_terms_days"] = *terms
		}
		if *noIndexation {
			body["indexation"] = false
		}
		var out account
		status, printed, err := inv.answer(ctx, http.MethodPost, "/v1/accounts", nil, body, &out)
		if err != nil || printed {
			return err
		}
		if status == http.StatusOK {
			fmt.Fprintf(inv.stdout, "account %s existed already with these terms; nothing changed\n\n", out.ID)
		}
		return writeAccount(inv.stdout, out)
	}
}

func accountsShow(fs *flag.FlagSet) action {
	return func(ctx context.Context, inv *invocation) error {
		return accountAnswer(ctx, inv, http.MethodGet, accountPath(inv.args[0]), nil, "")
	}
}

// accountAnswer sends a request the API answers with the account, and prints the account under
// said (unless empty), or with --json the answer.
func accountAnswer(ctx context.Context, inv *invocation, method, path string, body any, said string) error {
	var out account
	_, printed, err := inv.answer(ctx, method, path, nil, body, &out)
	if err != nil || printed {
		return err
	}
	if said != "" {
		fmt.Fprintf(inv.stdout, "account %s %s\n\n", out.ID, said)
	}
	return writeAccount(inv.stdout, out)
}

func accountsUpdate(fs *flag.FlagSet) action {
	name := fs.String("name", "", "the customer's legal name")
	email := fs.String("email", "", "where the account's notices are mailed")
	vatID := fs.String("vat-id", "", "VAT id with its country prefix")
	peppolID := fs.String("peppol-id", "", "PEPPOL participant id SCHEME:ID")
	addr := defineAddress(fs)
	return func(ctx context.Context, inv *invocation) error {
		body := map[string]any{}
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "name":
				body["name"] = *name
			case "email":
				body["email"] = *email
			case "vat-id":
				body["vat_id"] = *vatID
			case "peppol-id":
				body["peppol_id"] = *peppolID
			}
		})
		a, err := addr.value()
		if err != nil {
			return err
		}
		if a != nil {
			body["address"] = a
		}
		if len(body) == 0 {
			return usagef("nothing to change: give --name, --email, --vat-id, --peppol-id or an address")
		}
		return accountAnswer(ctx, inv, http.MethodPatch, accountPath(inv.args[0]), body, "changed; invoices issued before keep what they printed")
	}
}

// writeAccount prints an account: who it is, where it stands, and what its invoices lack.
func writeAccount(w io.Writer, a account) error {
	fmt.Fprintf(w, "Account %s (%s)\n\n", a.ID, a.Name)
	var addr string
	if a.Address != nil {
		addr = a.Address.Street + ", " + a.Address.PostalCode + " " + a.Address.City
	}
	fields := []field{
		{"type", a.Type}, {"status", a.Status}, {"closed", strings.TrimSpace(a.ClosedAt + " " + a.ClosedReason)},
		{"country", a.Country}, {"vat id", a.VATID}, {"email", a.Email}, {"address", addr}, {"peppol id", a.PeppolID},
		{"registered", a.RegisteredAt}, {"renewal date", a.RenewalDate}, {"notice deadline", a.NoticeDeadline},
	}
	if a.Type == "prepaid" {
		fields = append(fields, field{"usable", a.Prepaid.Usable + " EUR"}, field{"pending", a.Prepaid.Pending + " EUR"},
			field{"shortfall", a.Prepaid.Shortfall + " EUR"}, field{"chargebacks owed", a.Prepaid.ChargebacksOwed + " EUR"})
	} else {
		fields = append(fields, field{"credit limit", a.CreditLimit + " EUR"}, field{"exposure", a.Exposure + " EUR"},
			field{"unbilled", a.Unbilled + " EUR"}, field{"outstanding", a.Outstanding + " EUR"},
			field{"payment terms", fmt.Sprintf("%d days", a.PaymentTermsDays)})
	}
	if err := writeFields(w, fields...); err != nil {
		return err
	}
	if len(a.InvoiceDetailsMissing) > 0 {
		fmt.Fprintf(w, "\nits invoices lack for PEPPOL (ledgerctl accounts update %s …):\n", a.ID)
		for _, m := range a.InvoiceDetailsMissing {
			fmt.Fprintf(w, "  - %s\n", m)
		}
	}
	return nil
}

func accountsList(fs *flag.FlagSet) action {
	return func(ctx context.Context, inv *invocation) error {
		t := newTable("ACCOUNT", "NAME", "TYPE", "STATUS", "COUNTRY", "CREDIT LIMIT", "EXPOSURE", "UNBILLED", "OUTSTANDING", "USABLE").alignRight(5, 6, 7, 8, 9)
		n, printed, err := listRows(ctx, inv, "/v1/accounts", nil, func(a account) error {
			usable, limit := "", a.CreditLimit
			if a.Type == "prepaid" {
				usable, limit = a.Prepaid.Usable, ""
			}
			t.add(a.ID, a.Name, a.Type, a.Status, a.Country, limit, a.Exposure, a.Unbilled, a.Outstanding, usable)
			return nil
		})
		if err != nil || printed {
			return err
		}
		return t.writeCounted(inv.stdout, plural(n, "account", "accounts"))
	}
}
