package ledger

import (
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"ledger/clock"
)

// AccountType is how an account pays: after the fact (invoices) or in advance (top-ups).
type AccountType string

// Account types.
const (
	Postpaid AccountType = "postpaid"
	Prepaid  AccountType = "prepaid"
)

// Status is an account's standing.
type Status string

// Account statuses (CONTRACT 3.1).
const (
	Active    Status = "active"
	Suspended Status = "suspended"
	Closed    Status = "closed"
)

// Defaults of the terms, per account unless the customer's agreement says otherwise (T&C 2.7).
var (
	// DefaultCreditLimit is the standard credit limit (T&C 3.5).
	DefaultCreditLimit = decimal.NewFromInt(5000)
)

// DefaultPaymentTermsDays is the payment term (T&C 3.7).
const DefaultPaymentTermsDays = 14

// MaxPaymentTermsDays bounds payment terms an agreement may set.
const MaxPaymentTermsDays = 365

// Limits on account fields.
const (
	MaxNameLength  = 200
	MaxEmailLength = 254
	MaxVATIDLength = 20
)

// MaxAccountIDLength is the longest account id (CONTRACT 2).
const MaxAccountIDLength = 63

// ValidAccountID reports whether id has the form CONTRACT 2 fixes: [a-z0-9][a-z0-9_-]{0,62}.
// (A loop, not a regular expression: it runs for every usage event.)
func ValidAccountID(id string) bool {
	if len(id) == 0 || len(id) > MaxAccountIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// Account is a customer account and its terms.
type Account struct {
	ID      string
	Name    string
	Type    AccountType
	Status  Status
	Country string
	VATID   string
	Email   string
	Address Address
	// PeppolID is the customer's PEPPOL participant id, SCHEME:ID (an Electronic Address Scheme
	// code, such as 0106:12345678 for a Dutch KvK number): the invoice's electronic address when
	// its VAT id has no PEPPOL scheme (CONTRACT 3.1).
	PeppolID         string
	CreditLimit      decimal.Decimal
	PaymentTermsDays int
	Indexation       bool
	RegisteredAt     time.Time
	CreatedAt        time.Time
	CreatedBy        string
}

// NewAccount is a request to open an account (CONTRACT 3.1); nil fields take the defaults.
type NewAccount struct {
	ID               string   `json:"id"`
	Name             string   `json:"name"`
	Type             string   `json:"type"`
	Country          string   `json:"country"`
	VATID            string   `json:"vat_id"`
	Email            string   `json:"email"`
	Address          *Address `json:"address"`
	PeppolID         string   `json:"peppol_id"`
	CreditLimit      *string  `json:"credit_limit"`
	PaymentTermsDays *int     `json:"payment_terms_days"`
	Indexation       *bool    `json:"indexation"`
	RegisteredAt     *string  `json:"registered_at"`
}

// Address is where a customer is, as its invoices print it (the buyer's postal address, UBL
// BG-8; PEPPOL's NL-R-004 wants all three for a Dutch customer).
type Address struct {
	Street     string `json:"street"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
}

// IsZero reports whether no part of the address is known.
func (a Address) IsZero() bool { return a == Address{} }

// MaxAddressLength bounds each part of an address.
const MaxAddressLength = 200

// AccountChange is a change of an account's details (PATCH /v1/accounts/{id}, CONTRACT 3.1): nil
// fields stay as they are. Invoices issued before keep what they printed.
type AccountChange struct {
	Name     *string  `json:"name"`
	Email    *string  `json:"email"`
	VATID    *string  `json:"vat_id"`
	Address  *Address `json:"address"`
	PeppolID *string  `json:"peppol_id"`
}

// IsZero reports whether the change changes nothing.
func (c AccountChange) IsZero() bool {
	return c.Name == nil && c.Email == nil && c.VATID == nil && c.Address == nil && c.PeppolID == nil
}

// Change applies a change of details to the account and checks the result as an account's
// creation would (the same rules, R5 included: an EU customer outside the Netherlands keeps a
// VAT id).
func (a Account) Change(c AccountChange) (Account, error) {
	if c.IsZero() {
		return Account{}, Errorf(CodeInvalid, "nothing to change: give name, email, vat_id, address or peppol_id")
	}
	if c.Name != nil {
		a.Name = strings.TrimSpace(*c.Name)
	}
	if c.Email != nil {
		a.Email = strings.TrimSpace(*c.Email)
	}
	if c.VATID != nil {
		a.VATID = normalVATID(*c.VATID)
	}
	if c.Address != nil {
		a.Address = trimAddress(*c.Address)
	}
	if c.PeppolID != nil {
		a.PeppolID = strings.TrimSpace(*c.PeppolID)
	}
	return a, a.checkDetails()
}

func normalVATID(s string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
}

func trimAddress(a Address) Address {
	return Address{Street: strings.TrimSpace(a.Street), City: strings.TrimSpace(a.City), PostalCode: strings.TrimSpace(a.PostalCode)}
}

// euCountries are the EU member states (ISO 3166-1 alpha-2), for VAT (R5).
var euCountries = map[string]bool{
	"AT": true, "BE": true, "BG": true, "HR": true, "CY": true, "CZ": true, "DK": true,
	"EE": true, "FI": true, "FR": true, "DE": true, "GR": true, "HU": true, "IE": true,
	"IT": true, "LV": true, "LT": true, "LU": true, "MT": true, "NL": true, "PL": true,
	"PT": true, "RO": true, "SK": true, "SI": true, "ES": true, "SE": true,
}

// InEU reports whether country is an EU member state.
func InEU(country string) bool { return euCountries[country] }

// Open validates a request and returns the account it opens, with the defaults of the terms.
func (n NewAccount) Open(now time.Time, by string) (Account, error) {
	a := Account{
		ID:               n.ID,
		Name:             strings.TrimSpace(n.Name),
		Type:             AccountType(n.Type),
		Status:           Active,
		Country:          strings.ToUpper(strings.TrimSpace(n.Country)),
		VATID:            normalVATID(n.VATID),
		Email:            strings.TrimSpace(n.Email),
		PeppolID:         strings.TrimSpace(n.PeppolID),
		CreditLimit:      DefaultCreditLimit,
		PaymentTermsDays: DefaultPaymentTermsDays,
		Indexation:       true,
		RegisteredAt:     now,
		CreatedAt:        now,
		CreatedBy:        by,
	}
	if !ValidAccountID(a.ID) {
		return Account{}, Errorf(CodeInvalid, "account id %q must match [a-z0-9][a-z0-9_-]{0,62} (CONTRACT 2)", n.ID)
	}
	if n.Address != nil {
		a.Address = trimAddress(*n.Address)
	}
	if a.Type != Postpaid && a.Type != Prepaid {
		return Account{}, Errorf(CodeInvalid, "type %q must be postpaid or prepaid", n.Type)
	}
	if len(a.Country) != 2 || strings.Trim(a.Country, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return Account{}, Errorf(CodeInvalid, "country %q must be an ISO 3166-1 alpha-2 code such as NL", n.Country)
	}
	if !KnownCountry(a.Country) {
		return Account{}, Refusef("R5", "country %q is not an ISO 3166-1 alpha-2 country code such as NL: the VAT of the invoices depends on it", n.Country)
	}
	if err := a.checkDetails(); err != nil {
		return Account{}, err
	}
	if n.CreditLimit != nil {
		limit, err := ParseLimit("credit_limit", *n.CreditLimit)
		if err != nil {
			return Account{}, err
		}
		a.CreditLimit = limit
	}
	if n.PaymentTermsDays != nil {
		if *n.PaymentTermsDays < 0 || *n.PaymentTermsDays > MaxPaymentTermsDays {
			return Account{}, Errorf(CodeInvalid, "payment_terms_days must be 0…%d", MaxPaymentTermsDays)
		}
		a.PaymentTermsDays = *n.PaymentTermsDays
	}
	if n.Indexation != nil {
		a.Indexation = *n.Indexation
	}
	if n.RegisteredAt != nil {
		t, err := ParseInstant("registered_at", *n.RegisteredAt)
		if err != nil {
			return Account{}, err
		}
		a.RegisteredAt = t
	}
	return a, nil
}

// checkDetails checks what an account's creation and a change of its details both check.
func (a Account) checkDetails() error {
	if a.Name == "" || len(a.Name) > MaxNameLength {
		return Errorf(CodeInvalid, "name is required, at most %d characters", MaxNameLength)
	}
	// A line break in a name or an address would start a new header in the mail of a credit
	// notice, or a new line in an invoice's fields: refused, with every other control character.
	for _, f := range []struct{ name, value string }{{"name", a.Name}, {"email", a.Email}, {"vat_id", a.VATID},
		{"address.street", a.Address.Street}, {"address.city", a.Address.City}, {"address.postal_code", a.Address.PostalCode}, {"peppol_id", a.PeppolID}} {
		if !utf8.ValidString(f.value) || strings.IndexFunc(f.value, unicode.IsControl) >= 0 {
			return Errorf(CodeInvalid, "%s contains a line break or another control character", f.name)
		}
	}
	if len(a.VATID) > MaxVATIDLength {
		return Errorf(CodeInvalid, "vat_id is at most %d characters", MaxVATIDLength)
	}
	// R5 (Directive 2006/112/EC art. 196): an EU business customer outside the Netherlands is
	// invoiced under reverse charge, which needs its VAT ID; without one it is refused at sign-up.
	if InEU(a.Country) && a.Country != "NL" && a.VATID == "" {
		return Refusef("R5, Directive 2006/112/EC art. 196",
			"a customer in %s (EU, outside the Netherlands) needs a vat_id: it is invoiced under reverse charge", a.Country)
	}
	if a.Email != "" {
		addr, err := mail.ParseAddress(a.Email)
		if len(a.Email) > MaxEmailLength || err != nil || addr.Address != a.Email {
			return Errorf(CodeInvalid, "email %q is not an e-mail address (name@example.com)", a.Email)
		}
	}
	if !a.Address.IsZero() {
		if a.Address.Street == "" || a.Address.City == "" || a.Address.PostalCode == "" {
			return Errorf(CodeInvalid, "address needs street, city and postal_code, all three: it is the invoices' buyer address (CONTRACT 3.1; PEPPOL NL-R-004 wants all three)")
		}
		if len(a.Address.Street) > MaxAddressLength || len(a.Address.City) > MaxAddressLength || len(a.Address.PostalCode) > MaxAddressLength {
			return Errorf(CodeInvalid, "each part of address is at most %d characters", MaxAddressLength)
		}
	}
	if a.PeppolID != "" && !ValidPeppolID(a.PeppolID) {
		return Errorf(CodeInvalid, "peppol_id %q must be SCHEME:ID, SCHEME a PEPPOL Electronic Address Scheme code such as 0106 (KvK) or 0088 (GLN)", a.PeppolID)
	}
	return nil
}

// RenewalDate is the next date on which the agreement renews: agreements run one year from
// registration and renew by a year (T&C 10.1, 10.2). It is the first anniversary after today.
func (a Account) RenewalDate(now time.Time) clock.LocalDate {
	registered := clock.DateOf(a.RegisteredAt)
	today := clock.DateOf(now)
	for years := 1; ; years++ {
		d := registered.AddMonthsClamped(12 * years)
		if today.Before(d) {
			return d
		}
	}
}

// NoticeDeadline is the last day to terminate before the next renewal: 3 months before it
// (T&C 10.2).
func (a Account) NoticeDeadline(now time.Time) clock.LocalDate {
	return a.RenewalDate(now).AddMonthsClamped(-3)
}

// SameTerms reports whether two accounts were opened on the same terms: what a retry of an
// account's creation must ask again to be answered with it rather than refused.
func (a Account) SameTerms(b Account) bool {
	return a.Name == b.Name && a.Type == b.Type && a.Country == b.Country && a.VATID == b.VATID && a.Email == b.Email &&
		a.Address == b.Address && a.PeppolID == b.PeppolID &&
		a.CreditLimit.Equal(b.CreditLimit) && a.PaymentTermsDays == b.PaymentTermsDays && a.Indexation == b.Indexation &&
		a.RegisteredAt.Equal(b.RegisteredAt)
}
