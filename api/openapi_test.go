package api

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"ledger/api/wire"
	"ledger/billing"
	"ledger/ledger"
)

var update = flag.Bool("update", false, "write api/openapi.json anew from the routes and the wire types")

// schema is a JSON Schema (OpenAPI 3.1 uses JSON Schema 2020-12).
type schema = map[string]any

// schemaOf describes a wire type from its Go type and json tags, so the description cannot
// drift from what the API encodes. Named structs become components, referenced by name.
func schemaOf(t reflect.Type, components map[string]any) schema {
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOf(t.Elem(), components)
	case reflect.String:
		return schema{"type": "string"}
	case reflect.Bool:
		return schema{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint32, reflect.Uint64:
		return schema{"type": "integer"}
	case reflect.Float64:
		return schema{"type": "number"}
	case reflect.Slice:
		return schema{"type": "array", "items": schemaOf(t.Elem(), components)}
	case reflect.Map:
		return schema{"type": "object", "additionalProperties": schemaOf(t.Elem(), components)}
	case reflect.Interface:
		return schema{} // any JSON value
	case reflect.Struct:
		name := componentName(t)
		if name != "" {
			if _, done := components[name]; !done {
				components[name] = nil // recursion guard
				components[name] = structSchema(t, components)
			}
			return schema{"$ref": "#/components/schemas/" + name}
		}
		return structSchema(t, components)
	}
	panic("no schema for " + t.String())
}

func structSchema(t reflect.Type, components map[string]any) schema {
	props := schema{}
	var required []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		props[name] = schemaOf(f.Type, components)
		if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
			required = append(required, name)
		}
	}
	s := schema{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// componentName names a struct type's component: "Account" for accountJSON, "ledger.NewAccount"
// as "NewAccount"; "" for an anonymous struct.
func componentName(t reflect.Type) string {
	n := t.Name()
	if n == "" {
		return ""
	}
	n = strings.TrimSuffix(n, "JSON")
	return strings.ToUpper(n[:1]) + n[1:]
}

// obj is an object schema of string properties, for the bodies the handlers decode into
// anonymous structs; names ending in "?" are optional.
func obj(names ...string) schema {
	props := schema{}
	var required []string
	for _, n := range names {
		name, optional := strings.CutSuffix(n, "?")
		props[name] = schema{"type": "string"}
		if !optional {
			required = append(required, name)
		}
	}
	s := schema{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// page is a list's answer: {"items":[…],"next":"…"} (CONTRACT 3).
func listOf(item any) any { return pageOf{item} }

type pageOf struct{ item any }

// operation is one route as the description says it.
type operation struct {
	summary string
	body    any // a Go value whose type describes the request body, a schema, or nil
	status  int
	answer  any // a Go value whose type describes the answer, a schema, pageOf, or nil
	content string
	paged   bool
	errors  []int
}

// operations describes every route: what it does, what it takes, what it answers.
func operations() map[string]operation {
	created := http201
	return map[string]operation{
		"POST /v1/accounts":                  {summary: "Open an account (idempotent on id: the same body again answers 200; other terms 409)", body: ledger.NewAccount{}, status: created, answer: accountJSON{}, errors: []int{400, 409, 422}},
		"GET /v1/accounts":                   {summary: "List accounts", answer: listOf(accountJSON{}), paged: true},
		"GET /v1/accounts/{id}":              {summary: "An account: balances, exposure, prepaid credit, renewal and notice dates, what its invoices lack for PEPPOL", answer: accountJSON{}, errors: []int{404}},
		"PATCH /v1/accounts/{id}":            {summary: "Change an account's name, e-mail, VAT id, address or PEPPOL id; invoices issued keep what they printed", body: ledger.AccountChange{}, answer: accountJSON{}, errors: []int{400, 404, 422}},
		"GET /v1/accounts/{id}/entries":      {summary: "The account's ledger entries (?from=&to=, RFC 3339)", answer: listOf(entryJSON{}), paged: true, errors: []int{400, 404}},
		"PUT /v1/accounts/{id}/credit-limit": {summary: "Set the credit limit (T&C 3.6)", body: obj("amount"), answer: accountJSON{}, errors: []int{400, 404, 422}},
		"PUT /v1/accounts/{id}/prices":       {summary: "Agreed prices in the prices.csv form (T&C 2.7)", body: schema{"type": "string"}, content: "text/csv", answer: agreementJSON{}, errors: []int{400, 404, 409}},
		"GET /v1/accounts/{id}/prices":       {summary: "The account's agreed prices in force", answer: agreementJSON{}, errors: []int{404}},
		"POST /v1/accounts/{id}/topups":      {summary: "Book a prepaid top-up, usable from the next day (R9, T&C 3.13)", body: ledger.NewTopUp{}, status: created, answer: lotJSON{}, errors: []int{400, 404, 409, 422}},
		"GET /v1/accounts/{id}/topups":       {summary: "A prepaid account's top-ups (lots)", answer: listOf(lotJSON{}), paged: true, errors: []int{404}},
		"POST /v1/accounts/{id}/chargebacks": {summary: "A card top-up reversed: set off, owed, closed (R10, T&C 3.14); a bank top-up cannot be", body: ledger.NewChargeback{}, status: created, answer: chargebackJSON{}, errors: []int{400, 404, 409, 422}},
		"POST /v1/accounts/{id}/refunds":     {summary: "Refused: prepaid balances are not refundable (T&C 3.13)", body: schema{"type": "object"}, status: 422, errors: []int{404}},
		"POST /v1/accounts/{id}/payments":    {summary: "Book a payment and allocate it to the invoice named or the oldest due (R5)", body: schema{"type": "object", "additionalProperties": false, "required": []string{"id", "amount"}, "properties": schema{"id": schema{"type": "string"}, "amount": schema{"type": "string"}, "received_at": schema{"type": "string"}, "invoice_id": schema{"type": "string"}, "sepa": schema{"type": "boolean"}}}, status: created, answer: obj("id", "account", "amount", "received_at", "invoice_id", "credit"), errors: []int{400, 404, 409, 422}},
		"POST /v1/accounts/{id}/claims":      {summary: "File a claim: granted what the liability cap leaves (R12, T&C 8.4); 201 also when refused in part or whole", body: obj("id", "amount", "incident_at", "reason"), status: created, answer: claimJSON{}, errors: []int{400, 404, 409}},
		"GET /v1/accounts/{id}/claims":       {summary: "The account's claims", answer: listOf(claimJSON{}), paged: true, errors: []int{404}},
		"GET /v1/accounts/{id}/liability":    {summary: "The liability cap, paid in 12 months, granted and remaining (T&C 8.4)", answer: liabilityJSON{}, errors: []int{404}},
		"POST /v1/accounts/{id}/terminate":   {summary: "Terminate: invoices due at once, unbilled usage invoiced due on issue, account closed (R13)", body: obj("at?"), answer: accountJSON{}, errors: []int{400, 404, 409}},
		"POST /v1/billing-runs":              {summary: "Invoice an ended period, after the earlier ones not yet run (R5); a period runs once", body: obj("period"), answer: schema{"type": "object", "properties": schema{"period": schema{"type": "string"}, "ran_at": schema{"type": "string"}, "ran_before": schema{"type": "boolean"}, "invoices": schema{"type": "array", "items": schema{"$ref": "#/components/schemas/Invoice"}}, "runs": schema{"type": "array", "items": schema{"$ref": "#/components/schemas/BillingRun"}}}}, errors: []int{400, 409}},
		"GET /v1/invoices":                   {summary: "List invoices (?account=&period=&status=)", answer: listOf(invoiceJSON{}), paged: true, errors: []int{400}},
		"GET /v1/invoices/{id}":              {summary: "An invoice; {id}.xml its UBL 2.1 document (PEPPOL BIS 3.0), {id}.pdf the printable one", answer: invoiceJSON{}, errors: []int{404}},
		"POST /v1/invoices/{id}/disputes":    {summary: "Dispute part of an invoice, in writing, within the payment term (R7, T&C 3.11)", body: obj("id", "amount", "reason", "at?"), status: created, answer: disputeJSON{}, errors: []int{400, 404, 409, 422}},
		"GET /v1/disputes/{id}":              {summary: "A dispute", answer: disputeJSON{}, errors: []int{404}},
		"POST /v1/disputes/{id}/resolve":     {summary: "Resolve a dispute: accepted credits it, rejected makes it due at once (R7)", body: obj("outcome"), answer: disputeJSON{}, errors: []int{400, 404, 409}},
		"GET /v1/credit-notes":               {summary: "List credit notes (?account=)", answer: listOf(creditNoteJSON{}), paged: true},
		"GET /v1/credit-notes/{id}":          {summary: "A credit note; {id}.xml its UBL document, {id}.pdf the printable one", answer: creditNoteJSON{}, errors: []int{404}},
		"GET /v1/exports/invoices":           {summary: "A period's invoices for bookkeeping: CSV (?format=csv), or a zip of UBL documents (?format=ubl) or of PDF documents (?format=pdf)", content: "text/csv", errors: []int{400, 413}},
		"POST /v1/authorize":                 {summary: "May this account send? (R4, T&C 3.5; R9)", body: billing.AuthorizeRequest{}, answer: billing.AuthorizeResponse{}, errors: []int{400}},
		"GET /v1/rejected":                   {summary: "The parked events (?reason=)", answer: listOf(rejectedJSON{}), paged: true, errors: []int{400}},
		"POST /v1/rejected/replay":           {summary: "Charge the parked events whose cause is fixed (R1)", body: obj("reason?"), answer: billing.ReplayResult{}, errors: []int{400}},
		"GET /v1/prices":                     {summary: "The prices in force, indexed (R3), and the surcharges (?at=&account=)", answer: schema{"type": "object", "properties": schema{"at": schema{"type": "string"}, "account": schema{"type": "string"}, "next": schema{"type": "string"}, "items": schema{"type": "array", "items": schema{"$ref": "#/components/schemas/Price"}}, "surcharges": schema{"type": "array", "items": schema{"$ref": "#/components/schemas/Surcharge"}}}}, paged: true, errors: []int{400, 422}},
		"GET /v1/clock":                      {summary: "The test clock's time (only with --test-clock)", answer: obj("now"), errors: []int{404}},
		"POST /v1/clock":                     {summary: "Move the test clock forward; answers once everything due has run", body: obj("now"), answer: obj("now"), errors: []int{400, 404, 409}},
		"GET /v1/info": {summary: "Where usage is published (NATS, without credentials), whether the clock is the test clock, and which instance answers: its name and whether it holds the leader lease (docs/scaling.md)",
			answer: schema{"type": "object", "properties": schema{"nats": schema{"type": "string"}, "test_clock": schema{"type": "boolean"},
				"instance": schema{"type": "string"}, "leader": schema{"type": "boolean"}}}},
		"GET /v1/audit":                 {summary: "The audit trail: every write through the API (CONTRACT 3.10; ?account=)", answer: listOf(wire.AuditEntry{}), paged: true},
		"GET /v1/data-subjects/{id}":    {summary: "What is held under a number's pseudonym (R14, CONTRACT 3.6)", answer: listOf(wire.DataSubjectRecord{}), paged: true, errors: []int{400}},
		"DELETE /v1/data-subjects/{id}": {summary: "Erase a number's pseudonym from every record; amounts stay (R14)", answer: schema{"type": "object"}, errors: []int{400}},
		"GET /healthz":                  {summary: "The process answers"},
		"GET /readyz":                   {summary: "Ready: database, NATS and the usage consumer; 503 with the reason", errors: []int{503}},
		"GET /metrics":                  {summary: "Prometheus metrics; a token of any role when --api-tokens is set, unless --metrics-open", content: "text/plain", errors: []int{401}},
		"GET /openapi.json":             {summary: "This description"},
	}
}

const http201 = 201

var statusText = map[int]string{200: "OK", 201: "Created", 400: "The request is malformed", 401: "No valid token",
	403: "The token's role may not", 404: "Not found", 409: "In conflict with the state", 413: "Too large",
	422: "Refused by a rule (the message and clause name it)", 503: "Not ready"}

// describe builds the OpenAPI document from the routes and operations.
func describe(t *testing.T, s *Server) map[string]any {
	components := map[string]any{}
	errRef := schemaOf(reflect.TypeOf(errorBody{}), components)
	// The components the hand-written answers below refer to.
	for _, v := range []any{billingRunJSON{}, invoiceJSON{}, priceJSON{}, surchargeJSON{}} {
		schemaOf(reflect.TypeOf(v), components)
	}
	paths := map[string]any{}
	ops := operations()
	roles := map[string]Role{}
	for _, r := range s.Routes() {
		roles[r.Pattern] = r.Role
	}
	patterns := append([]string{}, PublicRoutes...)
	for _, r := range s.Routes() {
		patterns = append(patterns, strings.ReplaceAll(r.Pattern, "{e164}", "{id}"))
	}
	for _, pattern := range patterns {
		op, ok := ops[pattern]
		if !ok {
			t.Errorf("the API serves %s, which the description does not describe", pattern)
			continue
		}
		method, path, _ := strings.Cut(pattern, " ")
		item, _ := paths[path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[path] = item
		}
		o := map[string]any{"summary": op.summary, "operationId": operationID(method, path)}
		var params []any
		if strings.Contains(path, "{id}") {
			params = append(params, map[string]any{"name": "id", "in": "path", "required": true, "schema": schema{"type": "string"}})
		}
		if op.paged {
			params = append(params,
				map[string]any{"name": "limit", "in": "query", "schema": schema{"type": "integer", "minimum": 1, "maximum": MaxPageLimit, "default": DefaultPageLimit}},
				map[string]any{"name": "after", "in": "query", "description": "the next of the previous page", "schema": schema{"type": "string"}})
		}
		if params != nil {
			o["parameters"] = params
		}
		role, checked := roles[strings.Replace(pattern, "data-subjects/{id}", "data-subjects/{e164}", 1)]
		if checked {
			o["x-role"] = role.String()
			o["security"] = []any{map[string]any{"token": []any{}}}
		} else {
			o["security"] = []any{}
		}
		if op.body != nil {
			content := op.content
			if content == "" || content == "text/plain" {
				content = "application/json"
			}
			if pattern == "PUT /v1/accounts/{id}/prices" {
				content = "text/csv"
			}
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{content: map[string]any{"schema": bodySchema(op.body, components)}}}
		}
		status := op.status
		if status == 0 {
			status = 200
		}
		responses := map[string]any{}
		success := map[string]any{"description": statusText[status]}
		switch {
		case op.answer != nil:
			success["content"] = map[string]any{"application/json": map[string]any{"schema": bodySchema(op.answer, components)}}
		case op.content != "":
			success["content"] = map[string]any{op.content: map[string]any{"schema": schema{"type": "string"}}}
		}
		if status < 300 {
			responses[strconv.Itoa(status)] = success
		}
		errs := append([]int{}, op.errors...)
		if status >= 400 {
			errs = append(errs, status)
		}
		if checked {
			errs = append(errs, 401, 403)
		}
		for _, code := range errs {
			responses[strconv.Itoa(code)] = map[string]any{"description": statusText[code],
				"content": map[string]any{"application/json": map[string]any{"schema": errRef}}}
		}
		o["responses"] = responses
		item[strings.ToLower(method)] = o
	}
	for pattern := range ops {
		if !slices.Contains(patterns, pattern) {
			t.Errorf("the description describes %s, which the API does not serve", pattern)
		}
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "ledger", "version": "1",
			"description": "The billing and prepaid-credit ledger's HTTP API (CONTRACT 3). Errors are {\"error\":{\"code\",\"message\",\"clause\"?}}. Lists answer {\"items\":[…],\"next\":\"…\"}; pass next back as ?after=. Each operation's x-role is the least role that may use it (viewer < finance < admin)."},
		"paths": paths,
		"components": map[string]any{"schemas": components,
			"securitySchemes": map[string]any{"token": map[string]any{"type": "http", "scheme": "bearer", "description": "an API token of --api-tokens"}}},
	}
}

func bodySchema(v any, components map[string]any) any {
	switch b := v.(type) {
	case schema:
		return b
	case pageOf:
		return schema{"type": "object", "required": []string{"items", "next"}, "properties": schema{
			"items": schema{"type": "array", "items": bodySchema(b.item, components)}, "next": schema{"type": "string"}}}
	}
	return schemaOf(reflect.TypeOf(v), components)
}

func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, part := range strings.FieldsFunc(path, func(r rune) bool { return r == '/' || r == '-' || r == '.' || r == '{' || r == '}' }) {
		if part == "v1" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// CONTRACT 3.11: GET /openapi.json describes every route — its role, body, answers and errors —
// and nothing that is not a route; the description in the repository is the one the routes and
// the wire types make (go test ./api -run TestOpenAPI -update writes it anew).
func TestOpenAPI(t *testing.T) {
	s := &Server{}
	s.Handler()
	doc := describe(t, s)
	want, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	if *update {
		if err := os.WriteFile("openapi.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return // the binary embeds the file as it was: compare on the next run
	}
	if !bytes.Equal(openAPI, want) {
		t.Errorf("api/openapi.json is not what the routes and wire types describe: run go test ./api -run TestOpenAPI -update")
	}
	var parsed struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &parsed); err != nil || parsed.OpenAPI != "3.1.0" {
		t.Fatalf("openapi.json: %v, version %q", err, parsed.OpenAPI)
	}
	n := 0
	for path, item := range parsed.Paths {
		for method, op := range item {
			n++
			if op["responses"] == nil || op["summary"] == "" {
				t.Errorf("%s %s has no responses or no summary", method, path)
			}
		}
	}
	// Every reference names a component that is there.
	for _, ref := range regexp.MustCompile(`"\$ref": "#/components/schemas/([A-Za-z.]+)"`).FindAllSubmatch(openAPI, -1) {
		if !bytes.Contains(openAPI, []byte(`"`+string(ref[1])+`": {`)) {
			t.Errorf("a reference to %s, which components do not hold", ref[1])
		}
	}
	if n != len(s.Routes())+len(PublicRoutes) {
		t.Errorf("%d operations described, %d routes served", n, len(s.Routes())+len(PublicRoutes))
	}
}
