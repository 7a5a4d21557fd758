package ledger_test

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"

	"ledger/ledger"
	"ledger/money"
	"ledger/pricing"
)

// The tariffs the batch tests rate against; every expected amount below is computed by hand
// from these rows.
const (
	batchPrices = `channel,product,direction,prefix,country,unit_price,min_seconds,increment_seconds,valid_from,description
sms,,outbound,31,NL,0.075,,,2026-01-01,SMS Netherlands
sms,,outbound,33,FR,0.068,,,2026-01-01,SMS France
sms,,inbound,,,0.004,,,2026-01-01,SMS inbound
voice,,outbound,316,NL,0.12,60,60,2026-01-01,Voice NL mobile
ott,whatsapp,,,,0.005,,,2026-01-01,WhatsApp message
`
	batchSurcharges = `channel,product,direction,prefix,country,unit_price,applies_to,valid_from,description
sms,,outbound,33,FR,0.01,all,2026-01-01,French operator surcharge
voice,,,,,0.05,invalid_caller_id,2026-01-01,Missing or invalid caller ID
`
)

func batchTariffs(t testing.TB) *pricing.Tariffs {
	t.Helper()
	prices, err := pricing.ParsePrices("prices.csv", strings.NewReader(batchPrices))
	if err != nil {
		t.Fatal(err)
	}
	surcharges, err := pricing.ParseSurcharges("surcharges.csv", strings.NewReader(batchSurcharges))
	if err != nil {
		t.Fatal(err)
	}
	tariffs, err := pricing.New(prices, surcharges, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tariffs
}

func batchDirectory() *ledger.CreditBook {
	book := ledger.NewCreditBook()
	book.Apply(
		ledger.Credit{Account: "acme", Type: ledger.Postpaid, Status: ledger.Active},
		ledger.Credit{Account: "beta", Type: ledger.Prepaid, Status: ledger.Active},
		ledger.Credit{Account: "paused", Type: ledger.Postpaid, Status: ledger.Suspended},
		ledger.Credit{Account: "gone", Type: ledger.Postpaid, Status: ledger.Closed},
	)
	return book
}

// usage is a usage event as a publisher writes it (CONTRACT 2).
type usage struct {
	ID          string `json:"id"`
	Account     string `json:"account"`
	Channel     string `json:"channel"`
	Product     string `json:"product,omitempty"`
	Direction   string `json:"direction,omitempty"`
	Destination string `json:"destination,omitempty"`
	Quantity    int64  `json:"quantity"`
	CallerID    string `json:"caller_id,omitempty"`
	OccurredAt  string `json:"occurred_at"`
}

const eventTime = "2026-03-10T08:00:00Z"

func smsTo(id, account, destination string, parts int64) usage {
	return usage{ID: id, Account: account, Channel: "sms", Destination: destination, Quantity: parts, OccurredAt: eventTime}
}

func (u usage) delivery() ledger.Delivery {
	raw, _ := json.Marshal(u)
	return ledger.Delivery{Subject: "usage." + u.Channel + "." + u.Account, Data: raw}
}

func (u usage) hash(t testing.TB) uint64 {
	t.Helper()
	e, _, err := ledger.DecodeUsage(u.delivery().Data)
	if err != nil {
		t.Fatalf("decode %+v: %v", u, err)
	}
	return e.ContentHash()
}

// prepare prepares deliveries against the test tariffs and directory.
func prepare(t testing.TB, ds ...ledger.Delivery) []ledger.Prepared {
	t.Helper()
	tariffs, accounts := batchTariffs(t), batchDirectory()
	out := make([]ledger.Prepared, len(ds))
	for i, d := range ds {
		out[i] = ledger.Prepare(d, accounts, tariffs)
	}
	return out
}

var batchAt = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

// R1: what Prepare makes of one delivery: chargeable with its rating, or parked with its reason.
func TestPrepare(t *testing.T) {
	malformed := []byte(`{"id":"m-1","account":"acme","channel":"sms","destination":"+31612345678","quantity":1.5,"occurred_at":"2026-03-10T08:00:00Z"}`)
	tests := []struct {
		name       string
		delivery   ledger.Delivery
		wantReason ledger.Reason
		wantKey    string
		wantTotal  string // the rating's total when chargeable
	}{
		{"R1_chargeable_2_sms_NL", smsTo("c-1", "acme", "+31612345678", 2).delivery(), "", "c-1", "0.15"},      // 2 × 0.075
		{"R1_surcharge_on_top_sms_FR", smsTo("c-2", "acme", "+33612345678", 1).delivery(), "", "c-2", "0.078"}, // 0.068 + 0.01
		{"R13_suspended_account_still_charged", smsTo("c-3", "paused", "+31612345678", 1).delivery(), "", "c-3", "0.075"},
		{"R1_unknown_account", smsTo("u-1", "nobody", "+31612345678", 1).delivery(), ledger.ReasonUnknownAccount, "u-1", ""},
		{"R11_closed_account", smsTo("x-1", "gone", "+31612345678", 1).delivery(), ledger.ReasonAccountClosed, "x-1", ""},
		{"R1_no_price_for_destination", smsTo("p-1", "acme", "+99912345", 1).delivery(), ledger.ReasonNoPrice, "p-1", ""},
		{"R1_no_price_before_valid_from", usage{ID: "p-2", Account: "acme", Channel: "sms", Destination: "+31612345678", Quantity: 1, OccurredAt: "2025-12-31T22:59:59Z"}.delivery(), ledger.ReasonNoPrice, "p-2", ""},
		{"R1_no_price_for_channel_without_rows", usage{ID: "p-3", Account: "acme", Channel: "mms", Destination: "+31612345678", Quantity: 1, OccurredAt: eventTime}.delivery(), ledger.ReasonNoPrice, "p-3", ""},
		{"R1_malformed", ledger.Delivery{Subject: "usage.sms.acme", Data: malformed}, ledger.ReasonMalformed, "m-1", ""},
		{"R1_malformed_without_id", ledger.Delivery{Subject: "usage.sms.acme", Data: []byte(`{"id":`)}, ledger.ReasonMalformed, "", ""},
		{"R1_malformed_long_id_key_cut_to_128", smsTo(strings.Repeat("k", 200), "acme", "+31612345678", 1).delivery(), ledger.ReasonMalformed, strings.Repeat("k", 128), ""},
	}
	tariffs, accounts := batchTariffs(t), batchDirectory()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := ledger.Prepare(tc.delivery, accounts, tariffs)
			if p.Reason != tc.wantReason || p.Key != tc.wantKey {
				t.Fatalf("reason %q key %q (%s), want reason %q key %q", p.Reason, p.Key, p.Detail, tc.wantReason, tc.wantKey)
			}
			if string(p.Data) != string(tc.delivery.Data) || p.Subject != tc.delivery.Subject {
				t.Errorf("the delivery is not kept for parking: %+v", p.Delivery)
			}
			if tc.wantReason != "" && p.Detail == "" {
				t.Errorf("parked without a detail saying why")
			}
			switch tc.wantReason {
			case "":
				if got := p.Rating.Total.String(); got != tc.wantTotal {
					t.Errorf("total %s, want %s", got, tc.wantTotal)
				}
				e, _, _ := ledger.DecodeUsage(tc.delivery.Data)
				if p.Hash != e.ContentHash() {
					t.Errorf("hash %d, want the content hash %d", p.Hash, e.ContentHash())
				}
			case ledger.ReasonMalformed:
				if p.Hash != ledger.RawHash(tc.delivery.Data) {
					t.Errorf("hash %d, want the raw hash %d of the body", p.Hash, ledger.RawHash(tc.delivery.Data))
				}
			default:
				e, _, _ := ledger.DecodeUsage(tc.delivery.Data)
				if p.Hash != e.ContentHash() || p.Event.Account != e.Account {
					t.Errorf("hash %d account %q, want the content hash %d and account %q", p.Hash, p.Event.Account, e.ContentHash(), e.Account)
				}
			}
		})
	}
	// The key of a parked event is stored and listed as text (GET /v1/rejected event_id): cut to
	// the limit, it must still be the id's own characters, not half of one.
	t.Run("R1_malformed_long_id_key_cut_on_a_character_boundary", func(t *testing.T) {
		id := strings.Repeat("€", 150) // 3 bytes each
		p := ledger.Prepare(smsTo(id, "acme", "+31612345678", 1).delivery(), accounts, tariffs)
		if p.Reason != ledger.ReasonMalformed {
			t.Fatalf("reason %q, want malformed", p.Reason)
		}
		if !utf8.ValidString(p.Key) || !strings.HasPrefix(id, p.Key) || p.Key == "" {
			t.Errorf("key %q (%d bytes) is not a whole-character prefix of the id", p.Key, len(p.Key))
		}
	})
	t.Run("R1_replayed_delivery_keeps_its_parked_row", func(t *testing.T) {
		d := smsTo("r-1", "acme", "+31612345678", 1).delivery()
		d.ParkedID, d.ParkedReason = 7, string(ledger.ReasonUnknownAccount)
		p := ledger.Prepare(d, accounts, tariffs)
		if p.Reason != "" || p.ParkedID != 7 || p.ParkedReason != "unknown_account" {
			t.Errorf("prepared %+v, want chargeable and ParkedID 7", p)
		}
	})
}

// R1, invariant 2: PlanBatch decides exactly once: what is charged, what is a duplicate and what
// is parked, given what the store already holds.
func TestPlanBatch(t *testing.T) {
	nl2 := smsTo("e-1", "acme", "+31612345678", 2) // 2 × 0.075 = 0.150000
	nl5 := smsTo("e-1", "acme", "+31612345678", 5) // same id, other content
	fr1 := smsTo("e-2", "acme", "+33612345678", 1) // 0.068 + 0.01 = 0.078000
	unknown := smsTo("u-1", "nobody", "+31612345678", 1)
	malformed := ledger.Delivery{Subject: "usage.sms.acme", Data: []byte(`{"id":"m-1","quantity":-1}`)}

	type want struct {
		outcomes []ledger.Outcome
		charged  []string        // event ids charged, in order
		parked   []ledger.Reason // reasons parked, in order
		resolved []ledger.Resolution
		unbilled map[string]money.Micros // customer entries
	}
	C, D, R := ledger.OutcomeCharged, ledger.OutcomeDuplicate, ledger.OutcomeRejected
	tests := []struct {
		name     string
		items    []ledger.Delivery
		existing func() ledger.Existing
		want     want
	}{
		{
			name:  "R1_new_event_is_charged",
			items: []ledger.Delivery{nl2.delivery()},
			want:  want{outcomes: []ledger.Outcome{C}, charged: []string{"e-1"}, unbilled: map[string]money.Micros{"acme": 150000}},
		},
		{
			name:     "R1_same_id_same_content_already_charged_is_duplicate",
			items:    []ledger.Delivery{nl2.delivery()},
			existing: func() ledger.Existing { return ledger.Existing{Charged: map[string]uint64{"e-1": nl2.hash(t)}} },
			want:     want{outcomes: []ledger.Outcome{D}},
		},
		{
			name:     "R1_same_id_other_content_is_duplicate_conflict",
			items:    []ledger.Delivery{nl5.delivery()},
			existing: func() ledger.Existing { return ledger.Existing{Charged: map[string]uint64{"e-1": nl2.hash(t)}} },
			want:     want{outcomes: []ledger.Outcome{R}, parked: []ledger.Reason{ledger.ReasonDuplicateConflict}},
		},
		{
			name:  "R1_same_id_twice_in_one_batch_second_is_duplicate",
			items: []ledger.Delivery{nl2.delivery(), fr1.delivery(), nl2.delivery()},
			want: want{outcomes: []ledger.Outcome{C, C, D}, charged: []string{"e-1", "e-2"},
				unbilled: map[string]money.Micros{"acme": 228000}}, // 0.15 + 0.078
		},
		{
			name:  "R1_same_id_other_content_in_one_batch_second_is_duplicate_conflict",
			items: []ledger.Delivery{nl2.delivery(), nl5.delivery()},
			want: want{outcomes: []ledger.Outcome{C, R}, charged: []string{"e-1"},
				parked: []ledger.Reason{ledger.ReasonDuplicateConflict}, unbilled: map[string]money.Micros{"acme": 150000}},
		},
		{
			name:  "R1_conflict_twice_in_one_batch_parked_once",
			items: []ledger.Delivery{nl2.delivery(), nl5.delivery(), nl5.delivery()},
			want: want{outcomes: []ledger.Outcome{C, R, D}, charged: []string{"e-1"},
				parked: []ledger.Reason{ledger.ReasonDuplicateConflict}, unbilled: map[string]money.Micros{"acme": 150000}},
		},
		{
			name:  "R1_unknown_account_parked",
			items: []ledger.Delivery{unknown.delivery()},
			want:  want{outcomes: []ledger.Outcome{R}, parked: []ledger.Reason{ledger.ReasonUnknownAccount}},
		},
		{
			name:  "R1_malformed_parked",
			items: []ledger.Delivery{malformed},
			want:  want{outcomes: []ledger.Outcome{R}, parked: []ledger.Reason{ledger.ReasonMalformed}},
		},
		{
			name:  "R1_parked_twice_in_one_batch_parked_once",
			items: []ledger.Delivery{unknown.delivery(), unknown.delivery(), malformed, malformed},
			want: want{outcomes: []ledger.Outcome{R, D, R, D},
				parked: []ledger.Reason{ledger.ReasonUnknownAccount, ledger.ReasonMalformed}},
		},
		{
			name:  "R1_already_parked_and_open_is_duplicate_not_parked_twice",
			items: []ledger.Delivery{unknown.delivery(), malformed},
			existing: func() ledger.Existing {
				return ledger.Existing{Parked: map[ledger.ParkKey]int64{
					{Key: "u-1", Hash: unknown.hash(t)}:                3,
					{Key: "m-1", Hash: ledger.RawHash(malformed.Data)}: 4,
				}}
			},
			want: want{outcomes: []ledger.Outcome{D, D}},
		},
		{
			name:  "R1_replayed_delivery_that_charges_resolves_its_parked_row",
			items: []ledger.Delivery{withParked(nl2.delivery(), 7, "unknown_account")},
			existing: func() ledger.Existing {
				return ledger.Existing{Parked: map[ledger.ParkKey]int64{{Key: "e-1", Hash: nl2.hash(t)}: 7}}
			},
			want: want{outcomes: []ledger.Outcome{C}, charged: []string{"e-1"}, unbilled: map[string]money.Micros{"acme": 150000}},
		},
		{
			name:  "R1_resent_after_being_parked_charges_and_resolves_the_open_row",
			items: []ledger.Delivery{nl2.delivery()},
			existing: func() ledger.Existing {
				return ledger.Existing{Parked: map[ledger.ParkKey]int64{{Key: "e-1", Hash: nl2.hash(t)}: 9}}
			},
			want: want{outcomes: []ledger.Outcome{C}, charged: []string{"e-1"}, unbilled: map[string]money.Micros{"acme": 150000}},
		},
		{
			name:     "R1_replayed_delivery_already_charged_is_resolved_as_duplicate",
			items:    []ledger.Delivery{withParked(nl2.delivery(), 7, "no_price")},
			existing: func() ledger.Existing { return ledger.Existing{Charged: map[string]uint64{"e-1": nl2.hash(t)}} },
			want:     want{outcomes: []ledger.Outcome{D}, resolved: []ledger.Resolution{{ParkedID: 7, Outcome: D}}},
		},
		{
			name:  "R1_replayed_delivery_still_broken_is_parked_again_on_its_row",
			items: []ledger.Delivery{withParked(unknown.delivery(), 5, "unknown_account")},
			existing: func() ledger.Existing {
				return ledger.Existing{Parked: map[ledger.ParkKey]int64{{Key: "u-1", Hash: unknown.hash(t)}: 5}}
			},
			want: want{outcomes: []ledger.Outcome{R}, parked: []ledger.Reason{ledger.ReasonUnknownAccount}},
		},
		{
			name:  "R1_two_customers_in_one_batch",
			items: []ledger.Delivery{nl2.delivery(), smsTo("b-1", "beta", "+31612345678", 4).delivery()},
			want: want{outcomes: []ledger.Outcome{C, C}, charged: []string{"e-1", "b-1"},
				unbilled: map[string]money.Micros{"acme": 150000, "beta": 300000}}, // 4 × 0.075
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			existing := ledger.Existing{}
			if tc.existing != nil {
				existing = tc.existing()
			}
			plan, err := ledger.PlanBatch(prepare(t, tc.items...), existing, batchAt)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(plan.Outcomes) != fmt.Sprint(tc.want.outcomes) {
				t.Errorf("outcomes %v, want %v", plan.Outcomes, tc.want.outcomes)
			}
			var charged []string
			for _, c := range plan.Charges {
				charged = append(charged, c.Event.ID)
			}
			if fmt.Sprint(charged) != fmt.Sprint(tc.want.charged) {
				t.Errorf("charged %v, want %v", charged, tc.want.charged)
			}
			var parked []ledger.Reason
			for _, p := range plan.Parked {
				parked = append(parked, p.Reason)
			}
			if fmt.Sprint(parked) != fmt.Sprint(tc.want.parked) {
				t.Errorf("parked %v, want %v", parked, tc.want.parked)
			}
			if fmt.Sprint(plan.Resolved) != fmt.Sprint(tc.want.resolved) {
				t.Errorf("resolved %v, want %v", plan.Resolved, tc.want.resolved)
			}
			if len(tc.want.charged) == 0 {
				if plan.Transaction != nil {
					t.Errorf("a transaction %+v without charges", plan.Transaction)
				}
				return
			}
			if plan.Transaction == nil {
				t.Fatal("charges without a transaction")
			}
			got := map[string]money.Micros{}
			for _, e := range plan.Transaction.Entries {
				if e.AccountID != "" {
					got[e.AccountID] = e.Amount
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want.unbilled) {
				t.Errorf("customer entries %v, want %v", got, tc.want.unbilled)
			}
			if err := plan.Transaction.CheckBalanced(); err != nil {
				t.Error(err)
			}
		})
	}

	// The parked rows a charge resolves.
	t.Run("R1_replayed_delivery_that_charges_has_Charge_ParkedID", func(t *testing.T) {
		plan, err := ledger.PlanBatch(prepare(t, withParked(nl2.delivery(), 7, "unknown_account")), ledger.Existing{}, batchAt)
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Charges) != 1 || plan.Charges[0].ParkedID != 7 {
			t.Fatalf("charges %+v, want one with ParkedID 7", plan.Charges)
		}
		if plan.Outcomes[0] != ledger.OutcomeCharged {
			t.Errorf("outcome %s, want charged", plan.Outcomes[0])
		}
	})
	t.Run("R1_resent_after_being_parked_has_Charge_ParkedID_of_the_open_row", func(t *testing.T) {
		existing := ledger.Existing{Parked: map[ledger.ParkKey]int64{{Key: "e-1", Hash: nl2.hash(t)}: 9}}
		plan, err := ledger.PlanBatch(prepare(t, nl2.delivery()), existing, batchAt)
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Charges) != 1 || plan.Charges[0].ParkedID != 9 {
			t.Fatalf("charges %+v, want one with ParkedID 9", plan.Charges)
		}
	})
	t.Run("R1_parked_conflict_keeps_key_and_hash", func(t *testing.T) {
		existing := ledger.Existing{Charged: map[string]uint64{"e-1": nl2.hash(t)}}
		plan, err := ledger.PlanBatch(prepare(t, nl5.delivery()), existing, batchAt)
		if err != nil {
			t.Fatal(err)
		}
		p := plan.Parked[0]
		if p.Key != "e-1" || p.Hash != nl5.hash(t) || p.Event.Account != "acme" || !strings.Contains(p.Detail, "e-1") {
			t.Errorf("parked %+v, want key e-1, the conflicting event's hash and a detail naming the id", p)
		}
	})
}

func withParked(d ledger.Delivery, id int64, reason string) ledger.Delivery {
	d.ParkedID, d.ParkedReason = id, reason
	return d
}

// chargeOf builds the charge of one event with its amounts in micro-euros.
func chargeOf(id, account, channel string, base, surcharge money.Micros) ledger.Charge {
	return ledger.Charge{Prepared: &ledger.Prepared{
		Event:      ledger.UsageEvent{ID: id, Account: account, Channel: channel},
		BaseMicros: base, SurchargeMicros: surcharge,
	}}
}

// Invariant 1: a batch posts one balanced transaction: per customer one debit of its unbilled
// usage, per channel one credit of usage revenue, one credit of surcharge revenue.
func TestPostUsage(t *testing.T) {
	t.Run("R1_two_sms_NL_is_150000_micros", func(t *testing.T) {
		tx, err := ledger.PostUsage([]ledger.Charge{chargeOf("e-1", "acme", "sms", 150000, 0)}, batchAt) // 2 × 0.075
		if err != nil {
			t.Fatal(err)
		}
		want := []ledger.Entry{
			{LedgerAccount: "customer:acme:unbilled", AccountID: "acme", Amount: 150000, Events: 1},
			{LedgerAccount: "revenue:usage:sms", Amount: -150000, Events: 1},
		}
		// The order of entries is not a rule: compare them sorted by ledger account.
		got := append([]ledger.Entry(nil), tx.Entries...)
		sort.Slice(got, func(i, j int) bool { return got[i].LedgerAccount < got[j].LedgerAccount })
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("entries\n %+v\nwant\n %+v", got, want)
		}
		if tx.Kind != ledger.KindUsage || !tx.At.Equal(batchAt) || tx.Events != 1 {
			t.Errorf("transaction %+v, want kind usage at %s with 1 event", tx, batchAt)
		}
	})
	t.Run("R1_customers_channels_and_surcharges_aggregated", func(t *testing.T) {
		charges := []ledger.Charge{
			chargeOf("a-1", "acme", "sms", 150000, 0),       // 2 SMS NL: 2 × 0.075
			chargeOf("a-2", "acme", "sms", 68000, 10000),    // 1 SMS FR: 0.068 + 0.01 surcharge
			chargeOf("b-1", "beta", "voice", 120000, 50000), // 30 s NL mobile, no caller ID: 60 s × 0.12/60 + 60 s × 0.05/60
			chargeOf("b-2", "beta", "ott", 50000, 0),        // 10 WhatsApp × 0.005
			chargeOf("a-3", "acme", "voice", 240000, 0),     // 61 s NL mobile: 120 s × 0.12/60
		}
		tx, err := ledger.PostUsage(charges, batchAt)
		if err != nil {
			t.Fatal(err)
		}
		want := []ledger.Entry{
			{LedgerAccount: "customer:acme:unbilled", AccountID: "acme", Amount: 468000, Events: 3}, // 150000 + 78000 + 240000
			{LedgerAccount: "customer:beta:unbilled", AccountID: "beta", Amount: 220000, Events: 2}, // 170000 + 50000
			{LedgerAccount: "revenue:surcharges", Amount: -60000, Events: 2},                        // 10000 + 50000
			{LedgerAccount: "revenue:usage:ott", Amount: -50000, Events: 1},
			{LedgerAccount: "revenue:usage:sms", Amount: -218000, Events: 2},   // 150000 + 68000
			{LedgerAccount: "revenue:usage:voice", Amount: -360000, Events: 2}, // 120000 + 240000
		}
		// The order of entries is not a rule: compare them sorted by ledger account.
		got := append([]ledger.Entry(nil), tx.Entries...)
		sort.Slice(got, func(i, j int) bool { return got[i].LedgerAccount < got[j].LedgerAccount })
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("entries\n %+v\nwant\n %+v", got, want)
		}
		if tx.Sum() != 0 {
			t.Errorf("entries sum to %s, want 0", tx.Sum())
		}
		if tx.Events != 5 {
			t.Errorf("%d events, want 5", tx.Events)
		}
	})
	t.Run("R1_no_surcharge_entry_without_surcharges", func(t *testing.T) {
		tx, err := ledger.PostUsage([]ledger.Charge{chargeOf("e-1", "acme", "ott", 50000, 0)}, batchAt)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range tx.Entries {
			if e.LedgerAccount == ledger.RevenueSurcharges {
				t.Errorf("a surcharge entry %+v without surcharges", e)
			}
		}
	})
	t.Run("invariant1_CheckBalanced_refuses_an_unbalanced_transaction", func(t *testing.T) {
		tx := ledger.Transaction{Kind: "usage", Entries: []ledger.Entry{{LedgerAccount: "customer:acme:unbilled", Amount: 1}}}
		if err := tx.CheckBalanced(); err == nil || !strings.Contains(err.Error(), "invariant 1") {
			t.Errorf("CheckBalanced = %v, want an invariant 1 error", err)
		}
	})
}

// Invariants 1 and 2 over random batches: every transaction balances, the customer entries are
// the charges' totals, every amount is what the price list says, and every delivery ends as
// exactly one of charged, duplicate or parked, with no id charged twice.
func TestPlanBatch_property_random_batches(t *testing.T) {
	rng := rand.New(rand.NewSource(20260310))
	tariffs, accounts := batchTariffs(t), batchDirectory()
	accountIDs := []string{"acme", "beta", "paused", "gone", "nobody"}

	// randomEvent returns an event and, when chargeable, its hand-computed amounts in micros.
	randomEvent := func() (usage, money.Micros, money.Micros) {
		id := fmt.Sprintf("r-%d", rng.Intn(40)) // few ids: duplicates and conflicts happen
		account := accountIDs[rng.Intn(len(accountIDs))]
		q := int64(rng.Intn(4)) // few quantities: same content happens too
		switch rng.Intn(9) {
		case 0: // 0.075 per part
			return smsTo(id, account, "+31612345678", q), money.Micros(q * 75000), 0
		case 1: // 0.068 per part + 0.01 surcharge
			return smsTo(id, account, "+33612345678", q), money.Micros(q * 68000), money.Micros(q * 10000)
		case 2: // 0.004 per part
			u := smsTo(id, account, "+4915112345678", q)
			u.Direction = "inbound"
			return u, money.Micros(q * 4000), 0
		case 3: // voice NL mobile, min 60, increment 60, 0.12 per minute = 2000 micros per second
			seconds := q * 37
			billed := max((seconds+59)/60*60, 60)
			if seconds == 0 {
				billed = 0
			}
			u := usage{ID: id, Account: account, Channel: "voice", Destination: "+31612345678", Quantity: seconds, OccurredAt: eventTime}
			if rng.Intn(2) == 0 {
				u.CallerID = "+31201234567"
				return u, money.Micros(billed * 2000), 0
			}
			return u, money.Micros(billed * 2000), money.Micros(billed / 60 * 50000) // SST 6.3: 0.05 per billed minute
		case 4: // 0.005 per message
			return usage{ID: id, Account: account, Channel: "ott", Product: "whatsapp", Destination: "+4915112345678", Quantity: q, OccurredAt: eventTime}, money.Micros(q * 5000), 0
		case 5: // no price
			return smsTo(id, account, "+99912345", q), 0, 0
		case 6: // R3: in 2027 the 2026 prices are due the CPI change of 2026, which the tariffs lack
			u := smsTo(id, account, "+31612345678", q)
			u.OccurredAt = "2027-03-10T08:00:00Z"
			return u, 0, 0
		case 7: // 20 million parts at 0.075 is 1.5 million EUR: more than one event may cost
			return smsTo(id, account, "+31612345678", 20_000_000+q), 0, 0
		default: // malformed: a negative quantity
			return smsTo(id, account, "+31612345678", -1-q), 0, 0
		}
	}

	seenOutcomes := map[ledger.Outcome]int{}
	seenReasons := map[ledger.Reason]int{}
	defer func() {
		// The generator must reach every case, or the property proves little.
		for _, o := range []ledger.Outcome{ledger.OutcomeCharged, ledger.OutcomeDuplicate, ledger.OutcomeRejected} {
			if seenOutcomes[o] == 0 {
				t.Errorf("no %s outcome in any batch", o)
			}
		}
		for _, r := range ledger.Reasons {
			if seenReasons[r] == 0 {
				t.Errorf("nothing parked as %s in any batch", r)
			}
		}
		t.Logf("outcomes %v, parked %v", seenOutcomes, seenReasons)
	}()
	for iteration := 0; iteration < 300; iteration++ {
		n := 1 + rng.Intn(30)
		var ds []ledger.Delivery
		base := map[uint64]money.Micros{}
		surcharge := map[uint64]money.Micros{}
		for i := 0; i < n; i++ {
			u, b, s := randomEvent()
			d := u.delivery()
			if rng.Intn(10) == 0 {
				d.ParkedID = int64(1000 + i) // a replay from the parked store
			}
			ds = append(ds, d)
			if e, _, err := ledger.DecodeUsage(d.Data); err == nil {
				base[e.ContentHash()], surcharge[e.ContentHash()] = b, s
			}
		}
		items := make([]ledger.Prepared, len(ds))
		for i, d := range ds {
			items[i] = ledger.Prepare(d, accounts, tariffs)
		}
		// What the store holds: some ids charged (with this content or another), some parked.
		existing := ledger.Existing{Charged: map[string]uint64{}, Parked: map[ledger.ParkKey]int64{}}
		for _, p := range items {
			switch rng.Intn(8) {
			case 0:
				existing.Charged[p.Key] = p.Hash
			case 1:
				existing.Charged[p.Key] = p.Hash ^ 1
			case 2:
				existing.Parked[ledger.ParkKey{Key: p.Key, Hash: p.Hash}] = int64(rng.Intn(100) + 1)
			}
		}
		delete(existing.Charged, "") // an id is never empty in the charges table

		plan, err := ledger.PlanBatch(items, existing, batchAt)
		if err != nil {
			t.Fatalf("iteration %d: %v", iteration, err)
		}
		ctx := fmt.Sprintf("iteration %d", iteration)

		// Every delivery has an outcome, as the rule book decides it.
		if len(plan.Outcomes) != len(items) {
			t.Fatalf("%s: %d outcomes for %d deliveries", ctx, len(plan.Outcomes), len(items))
		}
		chargedIDs := map[string]uint64{}
		parkedKeys := map[ledger.ParkKey]bool{}
		var wantCharged, wantParked int
		for i, p := range items {
			want := ledger.OutcomeRejected
			reason := p.Reason
			if reason == "" {
				hash, seen := chargedIDs[p.Key]
				if !seen {
					hash, seen = existing.Charged[p.Key]
				}
				switch {
				case !seen:
					want = ledger.OutcomeCharged
					chargedIDs[p.Key] = p.Hash
				case hash == p.Hash:
					want = ledger.OutcomeDuplicate
				default:
					reason = ledger.ReasonDuplicateConflict
				}
			}
			if reason != "" {
				key := ledger.ParkKey{Key: p.Key, Hash: p.Hash}
				_, open := existing.Parked[key]
				if p.ParkedID == 0 && (open || parkedKeys[key]) {
					want = ledger.OutcomeDuplicate
				} else {
					parkedKeys[key] = true
					wantParked++
				}
			}
			if want == ledger.OutcomeCharged {
				wantCharged++
			}
			if plan.Outcomes[i] != want {
				t.Fatalf("%s: delivery %d (%s, reason %q) outcome %s, want %s", ctx, i, p.Data, p.Reason, plan.Outcomes[i], want)
			}
		}
		for _, o := range plan.Outcomes {
			seenOutcomes[o]++
		}
		for _, p := range plan.Parked {
			seenReasons[p.Reason]++
		}
		if len(plan.Charges) != wantCharged || len(plan.Parked) != wantParked {
			t.Fatalf("%s: %d charges and %d parked, want %d and %d", ctx, len(plan.Charges), len(plan.Parked), wantCharged, wantParked)
		}

		// Invariant 2: no id charged twice, none charged that was charged before.
		seen := map[string]bool{}
		var totals money.Micros
		perCustomer := map[string]money.Micros{}
		perRevenue := map[string]money.Micros{}
		for _, c := range plan.Charges {
			if seen[c.Event.ID] {
				t.Fatalf("%s: %s charged twice in one batch", ctx, c.Event.ID)
			}
			seen[c.Event.ID] = true
			if _, before := existing.Charged[c.Event.ID]; before {
				t.Fatalf("%s: %s charged again", ctx, c.Event.ID)
			}
			if c.BaseMicros != base[c.Hash] || c.SurchargeMicros != surcharge[c.Hash] {
				t.Fatalf("%s: %+v charged %s + %s, want %s + %s", ctx, c.Event, c.BaseMicros, c.SurchargeMicros, base[c.Hash], surcharge[c.Hash])
			}
			totals += c.Total()
			perCustomer[c.Event.Account] += c.Total()
			perRevenue[ledger.RevenueUsage(c.Event.Channel)] -= c.BaseMicros
			if c.SurchargeMicros != 0 {
				perRevenue[ledger.RevenueSurcharges] -= c.SurchargeMicros
			}
		}

		// Invariant 1, and the customer entries are the charges' totals.
		if len(plan.Charges) == 0 {
			if plan.Transaction != nil {
				t.Fatalf("%s: a transaction without charges", ctx)
			}
			continue
		}
		tx := plan.Transaction
		if tx == nil {
			t.Fatalf("%s: charges without a transaction", ctx)
		}
		if err := tx.CheckBalanced(); err != nil {
			t.Fatalf("%s: %v", ctx, err)
		}
		var customerSum money.Micros
		gotCustomer := map[string]money.Micros{}
		gotRevenue := map[string]money.Micros{}
		for _, e := range tx.Entries {
			if e.AccountID != "" {
				customerSum += e.Amount
				gotCustomer[e.AccountID] += e.Amount
				if e.LedgerAccount != ledger.CustomerUnbilled(e.AccountID) {
					t.Fatalf("%s: customer entry on %s", ctx, e.LedgerAccount)
				}
			} else {
				gotRevenue[e.LedgerAccount] += e.Amount
			}
		}
		if customerSum != totals {
			t.Fatalf("%s: customer entries sum to %s, the charges to %s", ctx, customerSum, totals)
		}
		if fmt.Sprint(gotCustomer) != fmt.Sprint(perCustomer) || fmt.Sprint(gotRevenue) != fmt.Sprint(perRevenue) {
			t.Fatalf("%s: customers %v revenue %v, want %v and %v", ctx, gotCustomer, gotRevenue, perCustomer, perRevenue)
		}
		if tx.Events != len(plan.Charges) {
			t.Fatalf("%s: transaction counts %d events, %d charged", ctx, tx.Events, len(plan.Charges))
		}
	}
}

// Group commit: the batches committed together post one transaction, the merge of theirs. It
// must move exactly what planning all their events as one batch moves, account by account, and
// balance (invariant 1).
func TestMergeUsage_equals_one_batch(t *testing.T) {
	rng := rand.New(rand.NewSource(20261207))
	tariffs, accounts := batchTariffs(t), batchDirectory()
	destinations := []string{"+31612345678", "+33612345678", "+99912345"}
	for iteration := 0; iteration < 200; iteration++ {
		var items []ledger.Prepared
		for i := range 1 + rng.Intn(60) {
			account := []string{"acme", "beta", "gone"}[rng.Intn(3)]
			u := smsTo(fmt.Sprintf("m-%d-%d", iteration, i), account, destinations[rng.Intn(len(destinations))], int64(1+rng.Intn(3)))
			items = append(items, ledger.Prepare(u.delivery(), accounts, tariffs))
		}
		whole, err := ledger.PlanBatch(items, ledger.Existing{}, batchAt)
		if err != nil {
			t.Fatal(err)
		}
		// The same events cut into consecutive batches, each planned on its own.
		var txs []*ledger.Transaction
		for rest := items; len(rest) > 0; {
			n := 1 + rng.Intn(len(rest))
			plan, err := ledger.PlanBatch(rest[:n], ledger.Existing{}, batchAt.Add(time.Duration(len(txs))*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			txs = append(txs, plan.Transaction)
			rest = rest[n:]
		}
		merged := ledger.MergeUsage(txs)
		if whole.Transaction == nil {
			if merged != nil {
				t.Fatalf("iteration %d: nothing charged, yet the merge posts %+v", iteration, merged)
			}
			continue
		}
		if err := merged.CheckBalanced(); err != nil {
			t.Fatalf("iteration %d: %v", iteration, err)
		}
		if merged.Events != whole.Transaction.Events || merged.Kind != ledger.KindUsage {
			t.Errorf("iteration %d: merged %s of %d events, want usage of %d", iteration, merged.Kind, merged.Events, whole.Transaction.Events)
		}
		var latest time.Time
		for _, tx := range txs {
			if tx != nil {
				latest = tx.At
			}
		}
		if !merged.At.Equal(latest) {
			t.Errorf("iteration %d: merged at %s, want the latest batch's time %s", iteration, merged.At, latest)
		}
		got := map[string]ledger.Entry{}
		for _, e := range merged.Entries {
			if _, twice := got[e.LedgerAccount]; twice {
				t.Fatalf("iteration %d: %s named twice in the merge", iteration, e.LedgerAccount)
			}
			got[e.LedgerAccount] = e
		}
		if len(got) != len(whole.Transaction.Entries) {
			t.Errorf("iteration %d: %d ledger accounts in the merge, %d in the whole batch", iteration, len(got), len(whole.Transaction.Entries))
		}
		for _, w := range whole.Transaction.Entries {
			if g := got[w.LedgerAccount]; g != w {
				t.Errorf("iteration %d: %s merged %+v, as one batch %+v", iteration, w.LedgerAccount, g, w)
			}
		}
	}
	if ledger.MergeUsage(nil) != nil || ledger.MergeUsage([]*ledger.Transaction{nil, nil}) != nil {
		t.Error("the merge of no transaction is not nil")
	}
}

// A prepared event names its account by the directory's own string, so that the batch's later
// lookups by account find their keys by pointer (AccountState.ID); the bytes are the event's.
func TestPrepare_event_account_is_the_directory_string(t *testing.T) {
	tariffs, accounts := batchTariffs(t), batchDirectory()
	state, ok := accounts.Lookup("acme")
	if !ok || state.ID != "acme" {
		t.Fatalf("Lookup(acme) = %+v, %v", state, ok)
	}
	p := ledger.Prepare(smsTo("intern-1", "acme", "+31612345678", 1).delivery(), accounts, tariffs)
	if p.Reason != "" {
		t.Fatalf("parked: %s", p.Detail)
	}
	if p.Event.Account != "acme" || unsafe.StringData(p.Event.Account) != unsafe.StringData(state.ID) {
		t.Errorf("account %q is the decoded copy, not the directory's string", p.Event.Account)
	}
}
