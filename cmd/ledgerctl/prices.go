package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"ledger/api/wire"

	"github.com/shopspring/decimal"
)

// MaxPriceListBytes is the largest agreed price list `prices set` sends: the API's request
// limit (sql.MaxAgreementBytes, about 15,000 rows). A larger file is refused before it is sent,
// rather than cut off by the server.
const MaxPriceListBytes = 1 << 20

// priceRow is a row of a price list as the API answers it (CONTRACT 3.1, 3.8).
type priceRow = wire.Price

type indexation = wire.Indexation

// agreement is an account's agreed prices in force (PUT and GET /v1/accounts/{id}/prices).
type agreement = wire.Agreement

// pricesInForce is the answer of GET /v1/prices.
type pricesInForce struct {
	At         string      `json:"at"`
	Account    string      `json:"account"`
	Items      []priceRow  `json:"items"`
	Surcharges []surcharge `json:"surcharges"`
	Next       string      `json:"next"`
}

type surcharge = wire.Surcharge

func agreementPath(account string) string {
	return "/v1/accounts/" + url.PathEscape(account) + "/prices"
}

func pricesSet(fs *flag.FlagSet) action {
	return func(ctx context.Context, inv *invocation) error {
		account, name := inv.args[0], inv.args[1]
		data, err := readPriceList(name, inv.stdin)
		if err != nil {
			return err
		}
		var a agreement
		raw, _, err := inv.client.call(ctx, http.MethodPut, agreementPath(account), nil,
			document{contentType: "text/csv; charset=utf-8", data: data}, &a)
		if err != nil {
			// A wrong list is refused whole; the message names every wrong line and column.
			return err
		}
		if inv.json {
			_, err := inv.stdout.Write(raw)
			return err
		}
		if a.Rows == 0 {
			_, err := fmt.Fprintf(inv.stdout, "Agreed prices of %s ended (version %d, no rows): it pays the list prices\n", a.Account, a.Version)
			return err
		}
		fmt.Fprintf(inv.stdout, "Agreed prices of %s in force (T&C 2.7)\n\n", a.Account)
		return writeAgreementFields(inv.stdout, a)
	}
}

// readPriceList reads a price list from the file name, or from stdin when name is "-", at most
// MaxPriceListBytes.
func readPriceList(name string, stdin io.Reader) ([]byte, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	} else {
		name = "standard input"
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxPriceListBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > MaxPriceListBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes (1 MiB), the most an agreed price list may be; nothing was sent", name, MaxPriceListBytes)
	}
	return data, nil
}

func pricesShow(fs *flag.FlagSet) action {
	return func(ctx context.Context, inv *invocation) error {
		account := inv.args[0]
		var a agreement
		raw, _, err := inv.client.call(ctx, http.MethodGet, agreementPath(account), nil, nil, &a)
		var api *apiError
		if errors.As(err, &api) && api.Status == http.StatusNotFound && !inv.json {
			// 404 is either an account without agreed prices or no account at all: the account
			// itself tells which.
			if _, _, err := inv.client.call(ctx, http.MethodGet, "/v1/accounts/"+url.PathEscape(account), nil, nil, nil); err != nil {
				return err
			}
			_, err := fmt.Fprintf(inv.stdout, "%s has no agreed prices: it pays the list prices (`ledgerctl prices list --account %s`)\n", account, account)
			return err
		}
		if err != nil {
			return err
		}
		if inv.json {
			_, err := inv.stdout.Write(raw)
			return err
		}
		if a.Rows == 0 {
			_, err := fmt.Fprintf(inv.stdout, "%s has no agreed prices since version %d ended the agreement: it pays the list prices\n", a.Account, a.Version)
			return err
		}
		w := inv.stdout
		fmt.Fprintf(w, "Agreed prices of %s (T&C 2.7)\n\n", a.Account)
		if err := writeAgreementFields(w, a); err != nil {
			return err
		}
		fmt.Fprintln(w)
		t := newTable("CHANNEL", "PRODUCT", "DIRECTION", "PREFIX", "COUNTRY", "UNIT PRICE", "MIN SECONDS", "INCREMENT SECONDS", "VALID FROM", "DESCRIPTION").
			alignRight(5, 6, 7)
		for _, p := range a.Items {
			t.add(orAny(p.Channel), orAny(p.Product), orAny(p.Direction), orAny(p.Prefix), orAny(p.Country), p.UnitPrice,
				seconds(p.MinSeconds), seconds(p.IncrementSeconds), p.ValidFrom, p.Description)
		}
		return t.write(w)
	}
}

func writeAgreementFields(w io.Writer, a agreement) error {
	indexed := "yes: the agreed prices are indexed each 1 January (R3)"
	if !a.Indexation {
		indexed = "no: the account opted out; its prices are paid as written (T&C 3.4)"
	}
	return writeFields(w,
		field{"version", fmt.Sprint(a.Version)},
		field{"rows", fmt.Sprint(a.Rows)},
		field{"indexation", indexed},
		field{"set at", a.CreatedAt},
		field{"set by", a.CreatedBy},
	)
}

func pricesList(fs *flag.FlagSet) action {
	at := fs.String("at", "", "the time (RFC 3339) or day (YYYY-MM-DD, its start in Amsterdam) the prices are in force (default: now)")
	account := fs.String("account", "", "the prices this account pays: its agreed prices first (T&C 2.7), indexed as it is (default: the list)")
	return func(ctx context.Context, inv *invocation) error {
		query := url.Values{}
		if *at != "" {
			query.Set("at", *at)
		}
		if *account != "" {
			query.Set("account", *account)
		}
		// Every page: the answer is paged like every list (CONTRACT 3).
		var answer pricesInForce
		var raws []json.RawMessage
		for pages := 0; ; pages++ {
			if pages == MaxPages {
				return fmt.Errorf("GET /v1/prices: more than %d pages", MaxPages)
			}
			var page pricesInForce
			// A price due an indexation whose CPI change is missing answers 422 (R3): an error here.
			raw, _, err := inv.client.call(ctx, http.MethodGet, "/v1/prices", query, nil, &page)
			if err != nil {
				return err
			}
			var items struct {
				Items []json.RawMessage `json:"items"`
			}
			if err := json.Unmarshal(raw, &items); err != nil {
				return fmt.Errorf("GET /v1/prices: %w", err)
			}
			raws = append(raws, items.Items...)
			items0 := answer.Items
			answer = page
			answer.Items = append(items0, page.Items...)
			if page.Next == "" {
				break
			}
			query.Set("after", page.Next)
		}
		if inv.json {
			out := map[string]any{"at": answer.At, "items": nonNil(raws), "surcharges": answer.Surcharges, "next": ""}
			if answer.Account != "" {
				out["account"] = answer.Account
			}
			return writeJSON(inv.stdout, out)
		}
		return writePricesInForce(inv.stdout, answer)
	}
}

// writePricesInForce prints the prices in force, agreed rows first, then the surcharges.
func writePricesInForce(w io.Writer, answer pricesInForce) error {
	whose := "the list"
	if answer.Account != "" {
		whose = answer.Account
	}
	fmt.Fprintf(w, "Prices in force at %s for %s (EUR, without VAT)\n\n", answer.At, whose)
	t := newTable("CHANNEL", "PRODUCT", "DIRECTION", "PREFIX", "COUNTRY", "UNIT PRICE", "LISTED", "INDEXATIONS", "AGREED", "VALID FROM", "DESCRIPTION").
		alignRight(5, 6)
	agreed := 0
	for _, p := range answer.Items {
		marker := "-"
		if p.Agreed {
			marker, agreed = "agreed", agreed+1
		}
		indexed, err := indexationsText(p.Indexations)
		if err != nil {
			return fmt.Errorf("price %s %s: %w", p.Channel, p.Prefix, err)
		}
		t.add(orAny(p.Channel), orAny(p.Product), orAny(p.Direction), orAny(p.Prefix), orAny(p.Country), p.UnitPrice, p.ListedPrice,
			indexed, marker, p.ValidFrom, p.Description)
	}
	if len(answer.Items) == 0 {
		fmt.Fprintln(w, "no prices")
	} else if err := t.write(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "%s, %d agreed\n", plural(len(answer.Items), "price", "prices"), agreed)
	if len(answer.Surcharges) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nSurcharges (T&C 3.3; not indexed)")
	s := newTable("CHANNEL", "PRODUCT", "DIRECTION", "PREFIX", "COUNTRY", "UNIT PRICE", "APPLIES TO", "VALID FROM", "DESCRIPTION").alignRight(5)
	for _, p := range answer.Surcharges {
		s.add(orAny(p.Channel), orAny(p.Product), orAny(p.Direction), orAny(p.Prefix), orAny(p.Country), p.UnitPrice, p.AppliesTo, p.ValidFrom, p.Description)
	}
	return s.write(w)
}

// indexationsText is a price's indexations, oldest first, in a compact form: "2025→2026 +3.3 %"
// is the CPI change of 2025 applied on 1 January 2026; "-" is none.
func indexationsText(steps []indexation) (string, error) {
	if len(steps) == 0 {
		return "-", nil
	}
	parts := make([]string, len(steps))
	for i, s := range steps {
		change, err := decimal.NewFromString(s.Change)
		if err != nil {
			return "", fmt.Errorf("indexation change %q is not a decimal number", s.Change)
		}
		percent := change.Shift(2).String()
		if change.IsPositive() {
			percent = "+" + percent
		}
		year, _, _ := strings.Cut(s.On, "-")
		parts[i] = fmt.Sprintf("%d→%s %s %%", s.CPIYear, year, percent)
	}
	return strings.Join(parts, ", "), nil
}

// orAny is a key cell: empty matches any (CONTRACT 4), shown as "*" so that columns stay columns.
func orAny(cell string) string {
	if cell == "" {
		return "*"
	}
	return cell
}

// seconds is a voice row's minimum or increment; "-" on other channels.
func seconds(s int64) string {
	if s == 0 {
		return "-"
	}
	return fmt.Sprint(s)
}
