package pricing_test

import (
	"testing"
	"time"

	"ledger/pricing"
	"ledger/tariffs"
)

// TestExampleTariffsEmbedded loads the example set as ledgerd embeds it (no --tariffs), so the
// embedded copy and the directory cannot drift apart.
func TestExampleTariffsEmbedded(t *testing.T) {
	embedded, err := pricing.LoadFS(tariffs.Example())
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := pricing.Load("../tariffs/example")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	inForce := func(tr *pricing.Tariffs) int {
		p, err := tr.PricesInForce(at, pricing.Terms{})
		if err != nil {
			t.Fatal(err)
		}
		return len(p)
	}
	if a, b := inForce(embedded), inForce(onDisk); a == 0 || a != b {
		t.Fatalf("embedded set has %d prices, directory %d", a, b)
	}
	if a, b := len(embedded.SurchargesAt(at)), len(onDisk.SurchargesAt(at)); a == 0 || a != b {
		t.Fatalf("embedded set has %d surcharges, directory %d", a, b)
	}
	if len(embedded.CPI()) != 8 || len(embedded.Interest()) != 7 {
		t.Fatalf("embedded cpi %d, interest %d rows; want 8 and 7", len(embedded.CPI()), len(embedded.Interest()))
	}
}
