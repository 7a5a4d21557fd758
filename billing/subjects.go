package billing

import (
	"context"
	"time"

	"ledger/ledger"
)

// Personal data (R14, DPA 4.5, 6; CONTRACT 3.6): the usage records held under a number's
// pseudonym, listed and erased on request, and every pseudonym removed after the retention
// period. Amounts, entries and invoices stay as they are.

// SubjectStore finds, erases and forgets pseudonyms.
type SubjectStore interface {
	// SubjectRecords lists the charges, then the parked events, held under pseudonym, after the
	// cursor (from a previous page; "" for the first), at most limit; next is "" on the last page.
	SubjectRecords(ctx context.Context, pseudonym, after string, limit int) (records []SubjectView, next string, err error)
	// ErasePseudonym removes pseudonym from every record; it returns how many records held it.
	ErasePseudonym(ctx context.Context, pseudonym string) (int64, error)
	// ForgetPseudonyms removes the pseudonyms of the charges that occurred, and the parked
	// events parked, before before; it returns how many records it made anonymous.
	ForgetPseudonyms(ctx context.Context, before time.Time) (int64, error)
}

// SubjectView is a record as SubjectRecords lists it.
type SubjectView struct {
	Event, Account, Channel string
	OccurredAt              time.Time
	Prefix, Country         string
	Amount                  string // the charge, "" for a parked event
}

// DefaultPersonalDataRetention is how long a record keeps its pseudonym (R14: 90 days).
const DefaultPersonalDataRetention = 2160 * time.Hour

// pseudonymOf is the pseudonym of a data subject's number; what is not an E.164 number is refused.
func (s *Service) pseudonymOf(e164 string) (string, error) {
	if s.Charging.Pseudonyms == nil {
		return "", ledger.Errorf(ledger.CodeNotFound, "this ledger keeps no pseudonyms")
	}
	if !ledger.ValidE164(e164) {
		return "", ledger.Errorf(ledger.CodeInvalid, "a data subject is an E.164 number (+ and up to 15 digits, CONTRACT 3.6), not %q", truncated(e164))
	}
	return s.Charging.Pseudonyms.Of(e164), nil
}

// truncated shows the start of something that may be a number, for an error message.
func truncated(s string) string {
	if len(s) > 4 {
		return s[:4] + "…"
	}
	return s
}

// DataSubject lists the usage records held under a number's pseudonym (CONTRACT 3.6, DPA 4.5).
func (s *Service) DataSubject(ctx context.Context, e164, after string, limit int) ([]SubjectView, string, error) {
	p, err := s.pseudonymOf(e164)
	if err != nil {
		return nil, "", err
	}
	return s.Subjects.SubjectRecords(ctx, p, after, limit)
}

// EraseDataSubject anonymises the usage records held under a number's pseudonym (CONTRACT 3.6,
// DPA 4.5): the pseudonym goes; amounts, entries and invoices stay.
func (s *Service) EraseDataSubject(ctx context.Context, e164 string) (int64, error) {
	p, err := s.pseudonymOf(e164)
	if err != nil {
		return 0, err
	}
	return s.Subjects.ErasePseudonym(ctx, p)
}

// ForgetPersonalData removes the pseudonyms older than the retention period at now (R14);
// nothing when the retention is 0.
func (s *Service) ForgetPersonalData(ctx context.Context, now time.Time) (int64, error) {
	if s.PersonalDataRetention <= 0 || s.Subjects == nil {
		return 0, nil
	}
	return s.Subjects.ForgetPseudonyms(ctx, now.Add(-s.PersonalDataRetention))
}
