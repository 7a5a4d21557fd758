package ledger_test

import (
	"strings"
	"testing"

	"ledger/ledger"
)

func TestCreditSetLimit(t *testing.T) {
	open := ledger.Credit{Account: "acme", Type: ledger.Postpaid, Status: ledger.Active, Limit: eur("5000"), Exposure: eur("4200")}
	for _, c := range []struct {
		name   string
		credit ledger.Credit
		limit  string
		code   ledger.Code
		names  string
	}{
		{"T&C_3.6_raised", open, "10000", "", ""},
		{"T&C_3.6_lowered_below_exposure", open, "4000", "", ""},
		{"T&C_3.6_zero_cancels_the_credit", open, "0", "", ""},
		{"T&C_3.6_never_negative", open, "-0.01", ledger.CodeInvalid, "T&C 3.6"},
		{"T&C_3.5_postpaid_only", ledger.Credit{Account: "pre", Type: ledger.Prepaid, Status: ledger.Active}, "100", ledger.CodeConflict, "T&C 3.5"},
		{"closed_accounts_have_none", ledger.Credit{Account: "gone", Type: ledger.Postpaid, Status: ledger.Closed}, "100", ledger.CodeConflict, "closed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.credit.SetLimit(eur(c.limit))
			if c.code != "" {
				if ledger.ErrorCode(err) != c.code || !strings.Contains(err.Error(), c.names) || got.Limit != c.credit.Limit {
					t.Fatalf("SetLimit(%s) = %+v, %v; want %s naming %q, the limit unchanged", c.limit, got, err, c.code, c.names)
				}
				return
			}
			if err != nil || got.Limit != eur(c.limit) || got.Exposure != c.credit.Exposure || got.Status != c.credit.Status {
				t.Fatalf("SetLimit(%s) = %+v, %v; want the limit alone changed", c.limit, got, err)
			}
		})
	}
}

// R4: an invoice moves a customer's exposure from unbilled usage to receivable: one change of
// their sum per customer; provider accounts and a customer's other accounts do not count.
func TestExposureChanges(t *testing.T) {
	tx := ledger.Transaction{Kind: "invoice", Entries: []ledger.Entry{
		{LedgerAccount: "customer:a:receivable", AccountID: "a", Amount: eur("12.10")},
		{LedgerAccount: "customer:a:unbilled", AccountID: "a", Amount: eur("-10.00")},
		{LedgerAccount: "customer:b:credit", AccountID: "b", Amount: eur("-1.00")},
		{LedgerAccount: "customer:a:shortfall", AccountID: "a", Amount: eur("5.00")},
		{LedgerAccount: "liability:vat", Amount: eur("-2.10")},
	}}
	got := ledger.ExposureChanges(tx)
	want := []ledger.ExposureChange{{Account: "a", Delta: eur("2.10")}, {Account: "b", Delta: eur("-1.00")}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("changes = %+v, want %+v", got, want)
	}
}
