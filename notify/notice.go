package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"ledger/clock"
	"ledger/ledger"
	"ledger/money"
)

// Subjects of the events the Mailer mails (CONTRACT 5).
const (
	SubjectCreditThreshold = ledger.SubjectCreditThreshold
	SubjectSuspended       = ledger.SubjectSuspended
	SubjectResumed         = ledger.SubjectResumed
	SubjectClosed          = ledger.SubjectAccountClosed
	SubjectReopened        = ledger.SubjectAccountReopened
	SubjectPrepaidUsable   = ledger.SubjectPrepaidUsable
	SubjectPrepaidExpired  = ledger.SubjectPrepaidExpired
	SubjectInvoiceIssued   = ledger.SubjectInvoiceIssued
	SubjectInvoiceOverdue  = ledger.SubjectInvoiceOverdue
	SubjectInvoicePaid     = ledger.SubjectInvoicePaid
)

// Subjects lists what the Mailer mails.
var Subjects = []string{SubjectCreditThreshold, SubjectSuspended, SubjectResumed, SubjectClosed, SubjectReopened,
	SubjectPrepaidUsable, SubjectPrepaidExpired, SubjectInvoiceIssued, SubjectInvoiceOverdue, SubjectInvoicePaid}

// ReasonCreditLimit is the reason of a suspension at the credit limit (T&C 3.6) and of its end.
const ReasonCreditLimit = ledger.ReasonCreditLimit

// MaxEventBytes bounds the size of an event the Mailer reads; the events it mails are a few
// hundred bytes, anything far larger is not one of them.
const MaxEventBytes = 64 << 10

// MaxReasonLength bounds the reason quoted in a mail.
const MaxReasonLength = 200

// event is an outgoing event of the ledger as the Mailer needs it (CONTRACT 5).
type event struct {
	Subject string
	Account string
	At      time.Time
	// Threshold is the fraction of the credit limit crossed (0.8 for 80 %); threshold events only.
	Threshold   decimal.Decimal
	Exposure    decimal.Decimal
	CreditLimit decimal.Decimal
	// Reason is why an account was suspended, resumed, closed or reopened.
	Reason string
	// TopUpID and Amount: the lot of a prepaid event, and what became usable or expired.
	TopUpID string
	Amount  decimal.Decimal
	// Invoice events: the invoice, its total, what is outstanding, its due date.
	InvoiceID   string
	Total       decimal.Decimal
	Outstanding decimal.Decimal
	DueDate     string
}

// mailable reports whether the event is worth a mail: a lot that expired with nothing left
// forfeits nothing.
func (ev event) mailable() bool {
	return ev.Subject != SubjectPrepaidExpired || ev.Amount.IsPositive()
}

// flexDecimal reads a decimal given as a JSON string ("0.8", the contract's form) or as a JSON
// number (0.8), which some producers send for the threshold.
type flexDecimal struct {
	value decimal.Decimal
	set   bool
}

func (f *flexDecimal) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		d, err := money.Parse(s)
		if err != nil {
			return err
		}
		f.value, f.set = d, true
		return nil
	}
	d, err := decimal.NewFromString(string(b))
	if err != nil {
		return fmt.Errorf("%s is not a number", b)
	}
	f.value, f.set = d, true
	return nil
}

// decodeEvent reads and checks an event; an error means the event is malformed and no retry
// can help.
func decodeEvent(subject string, data []byte) (event, error) {
	if len(data) > MaxEventBytes {
		return event{}, fmt.Errorf("event of %d bytes exceeds %d", len(data), MaxEventBytes)
	}
	var body struct {
		Account     string      `json:"account"`
		At          string      `json:"at"`
		Threshold   flexDecimal `json:"threshold"`
		Exposure    flexDecimal `json:"exposure"`
		CreditLimit flexDecimal `json:"credit_limit"`
		Reason      string      `json:"reason"`
		TopUpID     string      `json:"topup_id"`
		Amount      flexDecimal `json:"amount"`
		InvoiceID   string      `json:"invoice_id"`
		Total       flexDecimal `json:"total"`
		Outstanding flexDecimal `json:"outstanding"`
		DueDate     string      `json:"due_date"`
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return event{}, fmt.Errorf("decode event: %w", err)
	}
	if !ledger.ValidAccountID(body.Account) {
		return event{}, fmt.Errorf("account %q is not an account id", body.Account)
	}
	at, err := time.Parse(time.RFC3339Nano, body.At)
	if err != nil {
		return event{}, fmt.Errorf("at %q is not an RFC 3339 instant", body.At)
	}
	ev := event{Subject: subject, Account: body.Account, At: at.UTC(), Reason: body.Reason}
	switch subject {
	case SubjectCreditThreshold:
		if !body.Threshold.set || !body.Exposure.set || !body.CreditLimit.set {
			return event{}, errors.New("a threshold event needs threshold, exposure and credit_limit")
		}
		// The threshold is a fraction of the limit (R4: 80 % and 90 %), never 0 and never above it.
		if !body.Threshold.value.IsPositive() || body.Threshold.value.GreaterThan(decimal.NewFromInt(1)) {
			return event{}, fmt.Errorf("threshold %s is not a fraction in (0, 1]", body.Threshold.value)
		}
		if body.CreditLimit.value.IsNegative() {
			return event{}, fmt.Errorf("credit_limit %s is negative", body.CreditLimit.value)
		}
		ev.Threshold, ev.Exposure, ev.CreditLimit = body.Threshold.value, body.Exposure.value, body.CreditLimit.value
	case SubjectSuspended, SubjectResumed, SubjectClosed, SubjectReopened:
		if len(ev.Reason) > MaxReasonLength || strings.ContainsFunc(ev.Reason, isControl) {
			return event{}, fmt.Errorf("reason %.40q is not a short line of text", ev.Reason)
		}
	case SubjectPrepaidUsable, SubjectPrepaidExpired:
		if !ledger.ValidRecordID(body.TopUpID) {
			return event{}, fmt.Errorf("topup_id %.40q is not a top-up id", body.TopUpID)
		}
		if !body.Amount.set || body.Amount.value.IsNegative() {
			return event{}, errors.New("a prepaid event needs an amount ≥ 0")
		}
		ev.TopUpID, ev.Amount = body.TopUpID, body.Amount.value
	case SubjectInvoiceIssued, SubjectInvoiceOverdue, SubjectInvoicePaid:
		if !ledger.ValidRecordID(body.InvoiceID) {
			return event{}, fmt.Errorf("invoice_id %.40q is not an invoice number", body.InvoiceID)
		}
		if !body.Total.set || !body.Outstanding.set || body.Outstanding.value.IsNegative() {
			return event{}, errors.New("an invoice event needs total and outstanding ≥ 0")
		}
		if _, err := clock.ParseDate(body.DueDate); err != nil {
			return event{}, fmt.Errorf("due_date: %w", err)
		}
		ev.InvoiceID, ev.Total, ev.Outstanding, ev.DueDate = body.InvoiceID, body.Total.value, body.Outstanding.value, body.DueDate
	default:
		return event{}, fmt.Errorf("subject %s is not one the mailer handles", subject)
	}
	return ev, nil
}

// notice is one e-mail, ready for the SMTP server.
type notice struct {
	To   string // envelope recipient (bare address)
	Data []byte // the message: headers and quoted-printable body, CRLF line ends
}

// composeNotice writes the mail for ev to the address to; streamSeq (the event's sequence in the
// BILLING stream) makes the Message-ID, so a redelivered event yields the same message. An error
// means the mail cannot be written (a bad address, a header that would be injected into).
func composeNotice(ev event, streamSeq uint64, from *mail.Address, to string) (notice, error) {
	if strings.ContainsFunc(to, isControl) {
		return notice{}, fmt.Errorf("e-mail address %q contains a control character", to)
	}
	if len(to) > ledger.MaxEmailLength {
		return notice{}, fmt.Errorf("e-mail address of %d characters exceeds %d", len(to), ledger.MaxEmailLength)
	}
	rcpt, err := mail.ParseAddress(to)
	if err != nil {
		return notice{}, fmt.Errorf("e-mail address %q: %w", to, err)
	}
	subject, body := noticeText(ev)

	var msg bytes.Buffer
	headers := [][2]string{
		{"From", from.String()},
		{"To", rcpt.String()},
		{"Subject", mime.QEncoding.Encode("utf-8", subject)},
		{"Date", ev.At.Format(time.RFC1123Z)},
		{"Message-ID", messageID(ev, streamSeq, from.Address)},
		// RFC 3834: a notice sent by a program; auto-responders should not answer it.
		{"Auto-Submitted", "auto-generated"},
		{"MIME-Version", "1.0"},
		{"Content-Type", "text/plain; charset=utf-8"},
		{"Content-Transfer-Encoding", "quoted-printable"},
	}
	for _, h := range headers {
		// Header injection: a CR or LF in a value would start a header (or the body) of its own.
		if strings.ContainsAny(h[1], "\r\n") {
			return notice{}, fmt.Errorf("header %s: value %q contains CR or LF", h[0], h[1])
		}
		msg.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	msg.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&msg)
	if _, err := qp.Write([]byte(body)); err != nil {
		return notice{}, err
	}
	if err := qp.Close(); err != nil {
		return notice{}, err
	}
	return notice{To: rcpt.Address, Data: msg.Bytes()}, nil
}

// messageID is the notice's Message-ID: stream sequence, account and event instant (the instant
// keeps ids unique should the stream ever be recreated and its sequences start again), at the
// sender's domain. All parts are dot-atom text: the account id is [a-z0-9_-].
func messageID(ev event, streamSeq uint64, fromAddress string) string {
	domain := fromAddress[strings.LastIndexByte(fromAddress, '@')+1:]
	return fmt.Sprintf("<billing.%d.%s.%s@%s>", streamSeq, ev.Account, ev.At.Format("20060102T150405.999999999Z"), domain)
}

// noticeText returns the subject and plain-text body of the mail for ev.
func noticeText(ev event) (subject, body string) {
	asOf := ev.At.Format("2 January 2006, 15:04 UTC")
	var b strings.Builder
	switch ev.Subject {
	case SubjectCreditThreshold:
		percent := ev.Threshold.Shift(2).String()
		subject = fmt.Sprintf("Account %s: %s %% of the credit limit used", ev.Account, percent)
		fmt.Fprintf(&b, "Your account %s has used %s %% of its credit limit of %s (exposure %s, as of %s).\n\n",
			ev.Account, percent, formatEUR(ev.CreditLimit), formatEUR(ev.Exposure), asOf)
		b.WriteString("T&C 3.5: we let you know by e-mail when your exposure is about to reach your credit limit. " +
			"Exposure is your rated usage not yet invoiced plus the outstanding amount of issued invoices " +
			"(including VAT) and any late-payment interest and costs charged but unpaid.\n\n")
		b.WriteString("When the exposure reaches the credit limit, the account is suspended until the limit is " +
			"raised or invoices are paid (T&C 3.6). To avoid this, pay your outstanding invoices or ask us to " +
			"raise your credit limit (a higher limit needs our written approval, T&C 3.5).\n")
	case SubjectSuspended:
		subject = fmt.Sprintf("Account %s suspended", ev.Account)
		if ev.Reason == ReasonCreditLimit {
			subject += ": credit limit reached"
			fmt.Fprintf(&b, "Your account %s has been suspended because its exposure reached the credit limit "+
				"(T&C 3.6), as of %s.\n\n", ev.Account, asOf)
			b.WriteString("Traffic during the suspension is still charged (T&C 10.3).\n\n")
			b.WriteString("The account resumes automatically once its exposure is below the credit limit again, " +
				"when outstanding invoices are paid or the limit is raised (T&C 10.4).\n")
		} else {
			fmt.Fprintf(&b, "Your account %s has been suspended (reason: %s), as of %s.\n\n", ev.Account, reasonText(ev.Reason), asOf)
			b.WriteString("Traffic during the suspension is still charged (T&C 10.3).\n\n")
			b.WriteString("The account resumes once the reason for the suspension no longer applies (T&C 10.4).\n")
		}
	case SubjectClosed:
		subject = fmt.Sprintf("Account %s closed", ev.Account)
		switch ev.Reason {
		case ledger.ClosedNoTopUpAfterRegistration:
			fmt.Fprintf(&b, "Your prepaid account %s has been closed, as of %s: it was not topped up within 3 months "+
				"after registration (T&C 3.15).\n\n", ev.Account, asOf)
		case ledger.ClosedNoTopUpAfterDepletion:
			fmt.Fprintf(&b, "Your prepaid account %s has been closed, as of %s: it was not topped up within 3 months "+
				"after its credit was used up (T&C 3.15).\n\n", ev.Account, asOf)
		case ledger.ClosedChargeback:
			fmt.Fprintf(&b, "Your prepaid account %s has been closed, as of %s: a card payment of a top-up was reversed "+
				"and no balance remained (T&C 3.14). What the balance did not cover remains owed.\n\n", ev.Account, asOf)
		default:
			fmt.Fprintf(&b, "Your account %s has been closed (reason: %s), as of %s.\n\n", ev.Account, reasonText(ev.Reason), asOf)
		}
		if ev.Reason == ledger.ClosedTerminated {
			b.Reset()
			fmt.Fprintf(&b, "The agreement of account %s ended, as of %s. Every invoiced amount is due at once, and "+
				"usage not yet invoiced has been invoiced, due on issue (T&C 10.7).\n\n", ev.Account, asOf)
			b.WriteString("Traffic from the account is no longer accepted.\n")
			break
		}
		b.WriteString("Traffic from a closed account is not accepted, and a closed account takes no top-ups.\n")
	case SubjectReopened:
		subject = fmt.Sprintf("Account %s open again", ev.Account)
		fmt.Fprintf(&b, "Your prepaid account %s is open again, as of %s: a top-up received before its closure "+
			"has been booked, so the account was topped up in time (T&C 3.15).\n", ev.Account, asOf)
	case SubjectPrepaidUsable:
		subject = fmt.Sprintf("Account %s: top-up %s usable", ev.Account, ev.TopUpID)
		fmt.Fprintf(&b, "Your top-up %s of account %s, %s, can be used from %s (T&C 3.13: a top-up is usable from "+
			"the day after we receive it).\n\n", ev.TopUpID, ev.Account, formatEUR(ev.Amount), asOf)
		b.WriteString("Prepaid credit expires 12 months after its purchase date and is not refundable (T&C 3.13).\n")
	case SubjectPrepaidExpired:
		subject = fmt.Sprintf("Account %s: prepaid credit expired", ev.Account)
		fmt.Fprintf(&b, "What was left of your top-up %s of account %s, %s, expired as of %s: prepaid credit expires "+
			"12 months after its purchase date and is not refundable (T&C 3.13).\n", ev.TopUpID, ev.Account, formatEUR(ev.Amount), asOf)
	case SubjectInvoiceIssued:
		subject = fmt.Sprintf("Invoice %s: %s, due %s", ev.InvoiceID, formatEUR(ev.Total), ev.DueDate)
		fmt.Fprintf(&b, "Invoice %s of account %s, %s including VAT, was issued as of %s. Please pay it by %s "+
			"without set-off or deduction (T&C 3.7); bank charges of a non-SEPA payment are yours (T&C 3.9).\n\n",
			ev.InvoiceID, ev.Account, formatEUR(ev.Total), asOf, ev.DueDate)
		b.WriteString("If you disagree with it, you can dispute it in writing up to its due date (T&C 3.11).\n")
	case SubjectInvoiceOverdue:
		subject = fmt.Sprintf("Invoice %s overdue: %s outstanding", ev.InvoiceID, formatEUR(ev.Outstanding))
		fmt.Fprintf(&b, "Invoice %s of account %s was due on %s and %s of it is still outstanding, as of %s.\n\n",
			ev.InvoiceID, ev.Account, ev.DueDate, formatEUR(ev.Outstanding), asOf)
		b.WriteString("From the day after the due date, late-payment interest accrues daily on what is overdue, and " +
			"collection costs are charged; both appear on your next invoice (T&C 3.8). No notice of default is needed.\n")
	case SubjectInvoicePaid:
		subject = fmt.Sprintf("Invoice %s paid", ev.InvoiceID)
		fmt.Fprintf(&b, "Invoice %s of account %s, %s, is paid in full, as of %s. Thank you.\n", ev.InvoiceID, ev.Account,
			formatEUR(ev.Total), asOf)
	case SubjectResumed:
		subject = fmt.Sprintf("Account %s active again", ev.Account)
		if ev.Reason == ReasonCreditLimit {
			fmt.Fprintf(&b, "Your account %s is active again (T&C 10.4): its exposure is below the credit limit, "+
				"as of %s.\n", ev.Account, asOf)
		} else {
			fmt.Fprintf(&b, "Your account %s is active again (T&C 10.4), as of %s.\n", ev.Account, asOf)
		}
	}
	b.WriteString("\n-- \nThis message was sent automatically by the billing system; please do not reply to it.\n")
	return subject, b.String()
}

func reasonText(reason string) string {
	if reason == "" {
		return "not given"
	}
	return strings.ReplaceAll(reason, "_", " ")
}

// formatEUR writes an amount for people: rounded to cents like an invoice amount, with
// thousands separators ("€5,000.00").
func formatEUR(d decimal.Decimal) string {
	text := money.FormatInvoice(money.RoundInvoice(d))
	sign := ""
	if strings.HasPrefix(text, "-") {
		sign, text = "-", text[1:]
	}
	whole, cents, _ := strings.Cut(text, ".")
	var grouped strings.Builder
	for i, digit := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			grouped.WriteByte(',')
		}
		grouped.WriteRune(digit)
	}
	return sign + "€" + grouped.String() + "." + cents
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
