// Package wire holds the JSON shapes of the HTTP API (CONTRACT 3): the API writes them, the
// console shows them, ledgerctl reads them, and the OpenAPI description is made from them —
// one set of wire types.
package wire

import "ledger/ledger"

type Account struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Type     string          `json:"type"`
	Status   string          `json:"status"`
	Country  string          `json:"country"`
	VATID    string          `json:"vat_id"`
	Email    string          `json:"email"`
	Address  *ledger.Address `json:"address,omitempty"`
	PeppolID string          `json:"peppol_id,omitempty"`
	// InvoiceDetailsMissing says what the account's invoices need to pass PEPPOL BIS 3.0 and its
	// details lack (invoices.MissingForPEPPOL); they are valid EN 16931 either way.
	InvoiceDetailsMissing []string `json:"invoice_details_missing,omitempty"`
	CreditLimit           string   `json:"credit_limit"`
	Exposure              string   `json:"exposure"`
	Unbilled              string   `json:"unbilled"`
	Outstanding           string   `json:"outstanding"`
	Prepaid               Prepaid  `json:"prepaid"`
	PaymentTermsDays      int      `json:"payment_terms_days"`
	Indexation            bool     `json:"indexation"`
	RegisteredAt          string   `json:"registered_at"`
	RenewalDate           string   `json:"renewal_date"`
	NoticeDeadline        string   `json:"notice_deadline"`
	InvalidCallerIDCalls  int64    `json:"invalid_caller_id_calls"`
	ClosedAt              string   `json:"closed_at,omitempty"`
	ClosedReason          string   `json:"closed_reason,omitempty"`
	CreatedAt             string   `json:"created_at"`
	CreatedBy             string   `json:"created_by"`
}

type Prepaid struct {
	Usable          string `json:"usable"`
	Pending         string `json:"pending"`
	Shortfall       string `json:"shortfall"`
	ChargebacksOwed string `json:"chargebacks_owed"`
	Lots            []Lot  `json:"lots"`
}

type Lot struct {
	ID          string `json:"id"`
	Amount      string `json:"amount"`
	Remaining   string `json:"remaining"`
	ReceivedAt  string `json:"received_at"`
	UsableFrom  string `json:"usable_from"`
	ExpiresAt   string `json:"expires_at"`
	State       string `json:"state"`
	Method      string `json:"method"`
	ChargedBack string `json:"charged_back"`
	Expired     string `json:"expired"`
}

type Entry struct {
	ID            int64  `json:"id"`
	TransactionID int64  `json:"transaction_id"`
	Kind          string `json:"kind"`
	At            string `json:"at"`
	LedgerAccount string `json:"ledger_account"`
	Amount        string `json:"amount"`
	Events        int    `json:"events,omitempty"`
	Memo          string `json:"memo,omitempty"`
}

type Invoice struct {
	ID           string        `json:"id"`
	Account      string        `json:"account"`
	Customer     string        `json:"customer"`
	Period       string        `json:"period"`
	IssueDate    string        `json:"issue_date"`
	DueDate      string        `json:"due_date"`
	DueNow       string        `json:"due_now,omitempty"`
	Status       string        `json:"status"`
	Currency     string        `json:"currency"`
	Lines        []Line        `json:"lines"`
	Net          string        `json:"net"`
	VATRate      string        `json:"vat_rate"`
	VATCategory  string        `json:"vat_category"`
	VAT          string        `json:"vat"`
	VATBreakdown []VATSubtotal `json:"vat_breakdown"`
	Total        string        `json:"total"`
	Outstanding  string        `json:"outstanding"`
	Disputed     string        `json:"disputed"`
	OverdueSince string        `json:"overdue_since,omitempty"`
	Notes        []string      `json:"notes"`
}

type Line struct {
	Kind        string `json:"kind"`
	Description string `json:"description"`
	Channel     string `json:"channel,omitempty"`
	Product     string `json:"product,omitempty"`
	Country     string `json:"country,omitempty"`
	Period      string `json:"period,omitempty"`
	Quantity    string `json:"quantity"`
	Unit        string `json:"unit"`
	UnitPrice   string `json:"unit_price"`
	Amount      string `json:"amount"`
	Concerns    string `json:"concerns,omitempty"`
	VATCategory string `json:"vat_category"`
}

type VATSubtotal struct {
	Category string `json:"category"`
	Rate     string `json:"rate"`
	Taxable  string `json:"taxable"`
	Tax      string `json:"tax"`
}

type CreditNote struct {
	ID           string        `json:"id"`
	Account      string        `json:"account"`
	Invoice      string        `json:"invoice_id"`
	IssueDate    string        `json:"issue_date"`
	Currency     string        `json:"currency"`
	Reason       string        `json:"reason"`
	Lines        []Line        `json:"lines"`
	Net          string        `json:"net"`
	VATRate      string        `json:"vat_rate"`
	VAT          string        `json:"vat"`
	VATBreakdown []VATSubtotal `json:"vat_breakdown"`
	Total        string        `json:"total"`
	Notes        []string      `json:"notes"`
}

type Dispute struct {
	ID         string `json:"id"`
	Invoice    string `json:"invoice_id"`
	Account    string `json:"account"`
	Amount     string `json:"amount"`
	Reason     string `json:"reason"`
	Status     string `json:"status"`
	OpenedAt   string `json:"opened_at"`
	ResolvedAt string `json:"resolved_at,omitempty"`
	CreditNote string `json:"credit_note_id,omitempty"`
}

// Claim is a claim and the answer it got (CONTRACT 3.5): granted, and the liability as the
// claim left it — the cap, what all claims up to this one were granted, what remained. What was
// not granted is refused: refused says how much, message why (T&C 8.4).
type Claim struct {
	ID              string `json:"id"`
	Account         string `json:"account"`
	Amount          string `json:"amount"`
	IncidentAt      string `json:"incident_at"`
	Reason          string `json:"reason"`
	Granted         string `json:"granted"`
	Refused         string `json:"refused"`
	Cap             string `json:"cap"`
	Paid12m         string `json:"paid_12m"`
	GrantedTotal    string `json:"granted_total"`
	Remaining       string `json:"remaining"`
	FirstIncidentAt string `json:"first_incident_at"`
	Message         string `json:"message,omitempty"`
	Clause          string `json:"clause,omitempty"`
	CreatedAt       string `json:"created_at"`
}

// Liability is an account's liability (CONTRACT 3.5). first_incident_at is null before the
// first claim; the cap and paid_12m are then what an incident now would fix, over the 12 months
// before now (window_from, window_to).
type Liability struct {
	Cap             string  `json:"cap"`
	Paid12m         string  `json:"paid_12m"`
	GrantedTotal    string  `json:"granted_total"`
	Remaining       string  `json:"remaining"`
	FirstIncidentAt *string `json:"first_incident_at"`
	WindowFrom      string  `json:"window_from"`
	WindowTo        string  `json:"window_to"`
	Claims          int     `json:"claims"`
}

type Chargeback struct {
	ID      string `json:"id"`
	Account string `json:"account"`
	TopUpID string `json:"topup_id"`
	Amount  string `json:"amount"`
	SetOff  string `json:"set_off"`
	Owed    string `json:"owed"`
	At      string `json:"at"`
	Closed  bool   `json:"account_closed"`
}

type Rejected struct {
	ID       int64  `json:"id"`
	EventID  string `json:"event_id"`
	Account  string `json:"account"`
	Reason   string `json:"reason"`
	Detail   string `json:"detail"`
	Subject  string `json:"subject"`
	Event    any    `json:"event"`
	ParkedAt string `json:"parked_at"`
	Replays  int    `json:"replays"`
}

type Price struct {
	Channel          string `json:"channel"`
	Product          string `json:"product"`
	Direction        string `json:"direction"`
	Prefix           string `json:"prefix"`
	Country          string `json:"country"`
	UnitPrice        string `json:"unit_price"`
	MinSeconds       int64  `json:"min_seconds,omitempty"`
	IncrementSeconds int64  `json:"increment_seconds,omitempty"`
	ValidFrom        string `json:"valid_from"`
	Description      string `json:"description"`
	// What GET /v1/prices adds: the row's own price, the indexations that made unit_price (R3),
	// and whether it is the account's agreed price (T&C 2.7).
	ListedPrice string       `json:"listed_price,omitempty"`
	Indexations []Indexation `json:"indexations,omitempty"`
	Agreed      bool         `json:"agreed,omitempty"`
}

type Indexation struct {
	On      string `json:"on"`
	CPIYear int    `json:"cpi_year"`
	Change  string `json:"change"`
}

type Surcharge struct {
	Channel     string `json:"channel"`
	Product     string `json:"product"`
	Direction   string `json:"direction"`
	Prefix      string `json:"prefix"`
	Country     string `json:"country"`
	UnitPrice   string `json:"unit_price"`
	AppliesTo   string `json:"applies_to"`
	ValidFrom   string `json:"valid_from"`
	Description string `json:"description"`
}

type Agreement struct {
	Account    string  `json:"account"`
	Version    int     `json:"version"`
	Rows       int     `json:"rows"`
	Indexation bool    `json:"indexation"`
	CreatedAt  string  `json:"created_at"`
	CreatedBy  string  `json:"created_by"`
	Items      []Price `json:"items"`
}

type BillingRun struct {
	Period    string    `json:"period"`
	RanAt     string    `json:"ran_at"`
	By        string    `json:"by"`
	RanBefore bool      `json:"ran_before"` // run before this request (by the clock or another request)
	Invoices  []Invoice `json:"invoices"`
}

// AuditEntry is one record of the audit trail (CONTRACT 3.10): who wrote what, and how it was
// answered.
type AuditEntry struct {
	Seq     int64  `json:"seq"`
	At      string `json:"at"`
	Actor   string `json:"actor"`
	Role    string `json:"role"`
	Method  string `json:"method"`
	Path    string `json:"path"`
	Account string `json:"account"`
	Status  int    `json:"status"`
}

// DataSubjectRecord is a usage record held under a number's pseudonym (CONTRACT 3.6, R14):
// never the number itself.
type DataSubjectRecord struct {
	Event      string `json:"event"`
	Account    string `json:"account"`
	Channel    string `json:"channel"`
	OccurredAt string `json:"occurred_at"`
	Prefix     string `json:"prefix"`
	Country    string `json:"country"`
	Amount     string `json:"amount"`
}
