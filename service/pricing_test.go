package service_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ledger/invoices/ubltest"
	"ledger/service"
)

// putCSV sends a text/csv body.
func (e *env) putCSV(path, body string) (int, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest("PUT", "http://"+e.svc.HTTPAddr+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

type pricesDoc struct {
	Items []struct {
		Channel, Product, Prefix string
		UnitPrice                string `json:"unit_price"`
		ListedPrice              string `json:"listed_price"`
		Agreed                   bool
		Indexations              []struct {
			On      string
			CPIYear int `json:"cpi_year"`
			Change  string
		}
	}
}

// price returns the unit price in a GET /v1/prices answer of a channel and prefix (agreed or
// listed), and the CPI years of its indexations.
func (p pricesDoc) price(channel, prefix string, agreed bool) (string, []int) {
	for _, it := range p.Items {
		if it.Channel == channel && it.Prefix == prefix && it.Agreed == agreed && it.Product == "" {
			var years []int
			for _, ix := range it.Indexations {
				years = append(years, ix.CPIYear)
			}
			return it.UnitPrice, years
		}
	}
	return "", nil
}

const agreedHeader = "channel,product,direction,prefix,country,unit_price,min_seconds,increment_seconds,valid_from,description\n"

// withTariffs runs the service on the test tariffs with some files replaced.
func withTariffs(t *testing.T, overrides map[string]string) option {
	dir := t.TempDir()
	writeTariffs(t, dir, overrides)
	return func(c *service.Config) { c.Tariffs = dir }
}

// CONTRACT 3.1, 3.8; T&C 2.7, 3.4; SST 9.1; R3 end to end: agreed prices over HTTP, events over
// NATS priced by them, professional services split by working time, indexed prices, the
// indexation note, and a missing CPI figure answered loudly.
func TestPricing_through_the_service(t *testing.T) {
	e := start(t, withTariffs(t, map[string]string{
		"prices.csv": testTariffs["prices.csv"] + `professional_services,,,,,120,,,2026-01-01,Consultancy per hour
professional_services,overtime,,,,180,,,2026-01-01,Consultancy per hour outside working time
professional_services,travel,,,,0.45,,,2026-01-01,Travel per kilometre
professional_services,materials,,,,12.50,,,2026-01-01,Materials per unit
`,
		"cpi.csv": "year,change\n2025,0.033\n2026,0.02\n",
	}))
	e.createAccount("acme", map[string]any{"address": dutchAddress})
	e.createAccount("fixed", map[string]any{"indexation": false, "address": dutchAddress})

	// A wrong list: 400, every wrong line named, nothing stored.
	status, raw := e.putCSV("/v1/accounts/acme/prices", agreedHeader+"sms,,outbound,31,NL,zero,,,2026-01-01,x\nsms,,outbound,32,BE,0.05,,,2026-02-30,y\n")
	if status != 400 || !strings.Contains(string(raw), "prices.csv:2:6 (unit_price)") || !strings.Contains(string(raw), "prices.csv:3:9 (valid_from)") {
		t.Fatalf("wrong list: %d %s, want 400 naming lines 2 and 3", status, raw)
	}
	if status, raw := e.do("GET", "/v1/accounts/acme/prices", nil, nil); status != 404 {
		t.Errorf("agreement after a refused list: %d %s, want 404", status, raw)
	}
	agreed := agreedHeader + "sms,,outbound,31,NL,0.05,,,2026-01-01,SMS NL agreed\nprofessional_services,,,,,100,,,2026-01-01,Consultancy agreed\n"
	status, raw = e.putCSV("/v1/accounts/acme/prices", agreed)
	var ag struct {
		Version int
		Rows    int
		Items   []struct {
			UnitPrice string `json:"unit_price"`
		}
	}
	if status != 200 || json.Unmarshal(raw, &ag) != nil || ag.Version != 1 || ag.Rows != 2 {
		t.Fatalf("PUT prices: %d %s, want 200 version 1 with 2 rows", status, raw)
	}

	e.publish(nil,
		smsAt("a-1", "acme", 1000, "2026-03-10T08:00:00Z"),  // agreed 0.05: 50.00
		smsAt("f-1", "fixed", 1000, "2026-03-10T08:00:00Z"), // list 0.075: 75.00
		// Tuesday 16:00 Amsterdam, 120 minutes: 60 at the agreed 100/h, 60 at the listed 180/h.
		event{ID: "a-2", Account: "acme", Channel: "professional_services", Quantity: 120, OccurredAt: "2026-03-10T15:00:00Z"},
		// R2, SST 9.1: travel per kilometre and materials per unit, each by its own row, on a
		// Saturday night too (no overtime for kilometres): 90 × 0.45 = 40.50, 3 × 12.50 = 37.50.
		event{ID: "a-4", Account: "acme", Channel: "professional_services", Product: "travel", Quantity: 90, OccurredAt: "2026-03-14T22:00:00Z"},
		event{ID: "a-5", Account: "acme", Channel: "professional_services", Product: "materials", Quantity: 3, OccurredAt: "2026-03-14T22:00:00Z"},
	)
	e.waitUnbilled("acme", "408.000000")
	e.waitUnbilled("fixed", "75.000000")

	var p pricesDoc
	if status, raw := e.do("GET", "/v1/prices?at=2027-01-01&account=acme", nil, &p); status != 200 {
		t.Fatalf("GET prices: %d %s", status, raw)
	}
	if price, years := p.price("sms", "31", true); price != "0.051" || len(years) != 1 || years[0] != 2026 {
		t.Errorf("acme's agreed SMS NL on 1 January 2027: %s indexed by CPI %v, want 0.051 by CPI 2026", price, years)
	}
	if price, _ := p.price("sms", "31", false); price != "0.0765" {
		t.Errorf("listed SMS NL on 1 January 2027: %s, want 0.0765", price)
	}
	p = pricesDoc{}
	if status, raw := e.do("GET", "/v1/prices?at=2027-01-01&account=fixed", nil, &p); status != 200 {
		t.Fatalf("GET prices: %d %s", status, raw)
	}
	if price, years := p.price("sms", "31", false); price != "0.075" || len(years) != 0 {
		t.Errorf("fixed's SMS NL in 2027: %s indexed by %v, want 0.075 (opted out, T&C 3.4)", price, years)
	}
	if status, raw := e.do("GET", "/v1/prices?at=2028-01-01", nil, nil); status != 422 || !strings.Contains(string(raw), "CPI change missing for 2027") {
		t.Errorf("prices in 2028 without CPI 2027: %d %s, want 422 naming it", status, raw)
	}

	e.setClock("2026-04-01T00:00:00Z")
	march := e.invoices("account=acme&period=2026-03")
	if len(march) != 1 {
		t.Fatalf("acme's March invoices: %+v", march)
	}
	var lines []string
	for _, l := range march[0].Lines {
		lines = append(lines, l.Kind+" "+l.Description+" "+l.Quantity+" × "+l.UnitPrice+" = "+l.Amount)
	}
	want(t, "acme's March lines", strings.Join(lines, "; "),
		"professional_services Consultancy agreed 1 × 100.000000 = 100.00; materials Materials per unit 3 × 12.500000 = 37.50; "+
			"professional_services Consultancy per hour outside working time 1 × 180.000000 = 180.00; travel Travel per kilometre 90 × 0.450000 = 40.50; "+
			"usage SMS NL agreed 1000 × 0.050000 = 50.00")

	// January 2027 at the indexed agreed price; the January invoice states the indexation.
	e.publish(nil, smsAt("a-3", "acme", 1000, "2027-01-10T08:00:00Z"))
	e.waitUnbilled("acme", "51.000000")
	e.setClock("2027-02-01T00:00:00Z")
	jan := e.invoices("account=acme&period=2027-01")
	if len(jan) != 1 || !strings.Contains(strings.Join(jan[0].Notes, " "), "Prices indexed on 2027-01-01 by 2 %") ||
		!strings.Contains(strings.Join(jan[0].Notes, " "), "CPI) in 2026") {
		t.Errorf("acme's January 2027 invoice: %+v, want the indexation note (R3)", jan)
	}
	// Both documents, hours and the note included, are valid EN 16931 / PEPPOL UBL.
	dir := t.TempDir()
	var files []string
	for _, inv := range []invoiceDoc{march[0], jan[0]} {
		f := filepath.Join(dir, inv.ID+".xml")
		xml := e.get("/v1/invoices/" + inv.ID + ".xml")
		if err := os.WriteFile(f, xml, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		if inv.ID == jan[0].ID && !strings.Contains(string(xml), "Prices indexed on 2027-01-01") {
			t.Errorf("the UBL of %s lacks the indexation note", inv.ID)
		}
	}
	ubltest.Validate(t, files...)
}
