package service_test

import (
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// deploy/grafana/ledger.json queries only metrics a running ledgerd exports: with a suspended
// postpaid account, prepaid credit expiring and a closure due, every metric name in the
// dashboard's queries is in /metrics.
func TestGrafanaDashboardQueriesExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile("../deploy/grafana/ledger.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	names := map[string]bool{}
	metric := regexp.MustCompile(`ledger_[a-z0-9_]+`)
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			for _, n := range metric.FindAllString(target.Expr, -1) {
				names[n] = true
			}
		}
	}
	if len(names) < 8 {
		t.Fatalf("the dashboard queries only %d metrics: %v", len(names), names)
	}

	e := start(t)
	e.createAccount("near", map[string]any{"credit_limit": "0.10"})
	e.createAccount("pp", map[string]any{"type": "prepaid", "registered_at": "2026-03-01T00:00:00Z"})
	e.createAccount("new", map[string]any{"type": "prepaid", "registered_at": "2026-12-01T00:00:00Z"})
	if status, raw := e.topUp("pp", "t1", "10.00", "2026-03-10T09:00:00Z"); status != 201 {
		t.Fatalf("top-up: %d %s", status, raw)
	}
	e.publish(nil, smsAt("near-1", "near", 2, "2026-03-10T08:00:00Z"),
		event{ID: "near-2", Account: "near", Channel: "voice", Destination: "+31612345678", Quantity: 30, OccurredAt: "2026-03-10T08:00:00Z"})
	e.settle()
	e.setClock("2027-02-20T00:00:00Z") // pp's lot expires on 10 March 2027; new closes on 2 March 2027
	text := e.metricsText()
	var missing []string
	for n := range names {
		if !strings.Contains(text, "\n"+n) {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("the dashboard queries metrics /metrics does not have: %v\n%s", missing, grep(text, "ledger_"))
	}
}
