package invoices

import (
	"github.com/shopspring/decimal"

	"ledger/clock"
	"ledger/pricing"
)

// Line kinds (CONTRACT 3.3).
const (
	LineUsage                = "usage"
	LineSurcharge            = "surcharge"
	LineInterest             = "interest"
	LineCollectionCosts      = "collection_costs"
	LineCredit               = "credit"
	LineProfessionalServices = "professional_services"
	LineTravel               = "travel"    // professional services' travel, per kilometre (R2, SST 9.1)
	LineMaterials            = "materials" // professional services' materials, per unit (R2, SST 9.1)
)

// Units of measure of invoice lines (UN/ECE Recommendation 20, as UBL wants them).
const (
	UnitPiece  = "C62" // parts, messages, one-off amounts
	UnitMinute = "MIN" // voice
	UnitHour   = "HUR" // professional services
	UnitKm     = "KMT" // travel
)

// UsageLine is the kind and the unit of the invoice line a usage charge of channel and product
// lands on: professional services' hours, travel (km) and materials each on lines of their own
// (R2, SST 9.1); voice in minutes; everything else usage, in pieces.
func UsageLine(channel, product string) (kind, unit string) {
	switch {
	case channel != pricing.ChannelProfessionalServices:
		if channel == pricing.ChannelVoice {
			return LineUsage, UnitMinute
		}
		return LineUsage, UnitPiece
	case product == pricing.ProductTravel:
		return LineTravel, UnitKm
	case product == pricing.ProductMaterials:
		return LineMaterials, UnitPiece
	}
	return LineProfessionalServices, UnitHour
}

// Line is one line of an invoice or a credit note. Amount is the sum of what it groups rounded
// to cents (R5); Quantity × UnitPrice need not equal it to the cent, since charges are rounded
// per event to 6 decimals and minutes are billed in seconds.
type Line struct {
	Kind        string
	Description string
	Channel     string
	Product     string
	Country     string
	// Period is the billing period the line's usage happened in; a late event lands on a later
	// invoice marked with its own period (R5). Zero for lines that are not usage.
	Period    Period
	Quantity  decimal.Decimal
	Unit      string // UnitPiece, UnitMinute, UnitHour
	UnitPrice decimal.Decimal
	Amount    decimal.Decimal
	// Concerns names the invoice an interest, collection-costs or credit line is about (R6).
	Concerns string
	// VAT is the line's own VAT when it is not the document's (interest and collection costs,
	// NoVAT); nil: the document's.
	VAT *VAT
}

// Party is the seller or the customer as an invoice names them.
type Party struct {
	ID         string // the customer's account id; empty for the seller
	Name       string
	Country    string // ISO 3166-1 alpha-2
	VATID      string // with its country prefix (NL…B01); required for the seller
	Email      string
	Street     string
	City       string
	PostalCode string
	PeppolID   string // SCHEME:ID, its PEPPOL participant id (ledger.Account.PeppolID)
	IBAN       string // the seller's account for payments (UBL PaymentMeans, SEPA credit transfer)
}

// Invoice is an issued invoice: immutable once issued (corrections are credit notes). What is
// paid of it and its status live beside it in the store.
type Invoice struct {
	Number    string // INV-2026-000001
	Account   string
	Customer  Party
	Period    Period
	IssueDate clock.LocalDate
	DueDate   clock.LocalDate
	Currency  string // EUR
	Lines     []Line
	VAT       VAT // the customer's (R5); lines may carry their own
	Breakdown []TaxSubtotal
	Net       decimal.Decimal // Σ line amounts
	Tax       decimal.Decimal // VAT on Net, rounded to cents
	Total     decimal.Decimal // Net + Tax
	Notes     []string
}

// CreditNote corrects an issued invoice (R7: an accepted dispute; R5: issued invoices never
// change). Its amounts are positive: they are what is credited.
type CreditNote struct {
	Number           string // CN-2026-000001
	Account          string
	Customer         Party
	InvoiceNumber    string // the invoice it credits
	InvoiceIssueDate clock.LocalDate
	IssueDate        clock.LocalDate
	Currency         string
	Reason           string
	Lines            []Line
	VAT              VAT
	Breakdown        []TaxSubtotal
	Net              decimal.Decimal
	Tax              decimal.Decimal
	Total            decimal.Decimal
	Notes            []string
}
