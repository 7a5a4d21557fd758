package pricing

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Agreement is one account's agreed prices (T&C 2.7: the agreement comes before the general
// terms and the price list): rows in the prices.csv form, versioned by valid_from like the list.
// For that account, an event that an agreed row prices is priced by it, whatever the list says
// (the longest agreed prefix in force wins); only events no agreed row prices fall back to the
// list. Surcharges still apply on top (T&C 3.3). Agreed prices are indexed like list prices
// (R3), unless the account opted out (Terms.NoIndexation).
type Agreement struct {
	prices *Tariffs // prices only, with the list's CPI changes for their indexation
}

// NewAgreement builds an agreement from rows, checked as New checks list prices and indexed
// with t's CPI changes. A tariff set loaded later needs the agreements built again.
func (t *Tariffs) NewAgreement(rows []PriceRow) (*Agreement, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w: an agreement needs at least one price row", ErrInvalidTariff)
	}
	prices, err := New(rows, nil, t.cpi, nil)
	if err != nil {
		return nil, err
	}
	return &Agreement{prices: prices}, nil
}

// Terms is what rating needs of the account an event is for, beyond the list prices.
type Terms struct {
	// Agreement is the account's agreed prices (T&C 2.7); nil: the list prices only.
	Agreement *Agreement
	// NoIndexation: the account's agreement opts out of indexation ("indexation": false,
	// T&C 3.4), so none of its prices, agreed or listed, is indexed.
	NoIndexation bool
}

// findPrice looks up the price of an event: the account's agreement first (T&C 2.7), then the
// list. product must match exactly when exact is set (the overtime rate of SST 9.1: a row for
// any product is the agreed hourly rate, not the overtime rate).
func (t *Tariffs) findPrice(m *match[PriceRow], slot int, digits, product, direction string, exact bool, terms Terms, at time.Time) {
	for _, tries := range [2]*[numSlots]*trie[PriceRow]{agreedTries(terms.Agreement), &t.priceTries} {
		if tries == nil || tries[slot] == nil {
			continue
		}
		tries[slot].best(m, digits, product, direction, "", 0, at)
		if m.found && exact && m.row.Product != product {
			*m = match[PriceRow]{}
		}
		if m.found {
			return
		}
	}
}

func agreedTries(a *Agreement) *[numSlots]*trie[PriceRow] {
	if a == nil {
		return nil
	}
	return &a.prices.priceTries
}

// PriceInForce is a price row as it stands at an instant (GET /v1/prices?at=).
type PriceInForce struct {
	// PriceRow is the row; its UnitPrice is the price in force: indexed (R3) unless exempt.
	PriceRow
	// ListedPrice is the row's own unit price, before indexation.
	ListedPrice decimal.Decimal
	// Indexations are those the price went through up to the instant, oldest first.
	Indexations []Indexation
	// Agreed: the row is the account's agreed price (T&C 2.7), not the list's.
	Agreed bool
}

// PricesInForce returns the prices in force at `at` for an account's terms (zero Terms: the list
// as every account without an agreement pays it): the agreed rows first, then the list's, each
// sorted by channel, product, direction and prefix, with indexation applied unless the terms
// exempt it. A price due an indexation whose CPI change is missing is an error (ErrMissingCPI),
// not a price at 0 %.
func (t *Tariffs) PricesInForce(at time.Time, terms Terms) ([]PriceInForce, error) {
	var out []PriceInForce
	sec := at.Unix()
	add := func(keys []*versions[PriceRow], agreed bool) error {
		for _, v := range keys {
			i := v.index(sec)
			if i < 0 {
				continue
			}
			ver := &v.vs[i]
			_, unit, err := priceAt(ver, sec, !terms.NoIndexation)
			if err != nil {
				return fmt.Errorf("%s: %w", describeKey(v.key), err)
			}
			p := PriceInForce{PriceRow: ver.row, ListedPrice: ver.row.UnitPrice, Agreed: agreed}
			p.UnitPrice = unit
			if !terms.NoIndexation {
				for _, step := range ver.steps {
					if step.from <= sec {
						p.Indexations = append(p.Indexations, step.Indexation)
					}
				}
			}
			out = append(out, p)
		}
		return nil
	}
	if terms.Agreement != nil {
		if err := add(terms.Agreement.prices.priceKeys, true); err != nil {
			return nil, err
		}
	}
	if err := add(t.priceKeys, false); err != nil {
		return nil, err
	}
	return out, nil
}

// AgreementFile is the name agreement errors give an agreed price list: "prices.csv:3:6
// (unit_price): …".
const AgreementFile = "prices.csv"

// BuildAgreement parses an agreed price list in the prices.csv form and builds it against t
// (T&C 2.7). Its errors name the line and column (and wrap ErrInvalidTariff). A list of the
// header alone ends an agreement: nil, the account pays the list prices again.
func (t *Tariffs) BuildAgreement(body string) (*Agreement, []PriceRow, error) {
	rows, err := ParsePrices(AgreementFile, strings.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	if len(rows) == 0 {
		return nil, nil, nil
	}
	a, err := t.NewAgreement(rows)
	if err != nil {
		return nil, nil, err
	}
	return a, rows, nil
}
