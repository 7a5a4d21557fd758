package billing

import (
	"context"
	"time"

	"ledger/ledger"
)

// The audit trail (CONTRACT 3.10, R14: every manual operation is recorded with who did it and
// when). A write through the API carries its AuditRecord in its context (WithAudit); the store
// writes the record in the first transaction of the operation that commits, so that a change
// and its record stand or fall together. A request that committed nothing — refused, or an
// idempotent retry answered as the first time — is recorded on its own (Service.RecordAudit).

// AuditRecord is one write through the API: who, what, on which account, how it was answered.
// One request's goroutine fills it in and writes it: it needs no lock.
type AuditRecord struct {
	At      time.Time
	Actor   string // the token's name (CONTRACT 1 --api-tokens), never the token
	Role    string
	Method  string
	Path    string // never a number in clear: a data-subject request is recorded by its route
	Account string // the account the write concerns, "" when none
	Status  int    // the HTTP status it is answered with
	// Written: a committed transaction holds the record.
	Written bool
}

// AuditEntry is a recorded write, as GET /v1/audit lists it.
type AuditEntry struct {
	Seq     int64
	At      time.Time
	Actor   string
	Role    string
	Method  string
	Path    string
	Account string
	Status  int
}

// AuditStore keeps the audit trail: append-only, in order.
type AuditStore interface {
	// RecordAudit appends a record in a transaction of its own.
	RecordAudit(ctx context.Context, r AuditEntry) error
	// Audit lists the records after seq (0: from the first), of one account when account is
	// not "", oldest first, at most limit.
	Audit(ctx context.Context, after int64, account string, limit int) ([]AuditEntry, error)
}

type auditKey struct{}

// WithAudit returns ctx carrying r: the store records it in the operation's first committed
// transaction.
func WithAudit(ctx context.Context, r *AuditRecord) context.Context {
	return context.WithValue(ctx, auditKey{}, r)
}

// AuditOf returns the record ctx carries that no transaction has written yet, or nil.
func AuditOf(ctx context.Context) *AuditRecord {
	if r, _ := ctx.Value(auditKey{}).(*AuditRecord); r != nil && !r.Written {
		return r
	}
	return nil
}

// withoutAudit is ctx without its record: what runs under it is not the write the record is
// about (the due jobs a request runs first), or records it itself (RecordAudit).
func withoutAudit(ctx context.Context) context.Context {
	return context.WithValue(ctx, auditKey{}, (*AuditRecord)(nil))
}

// Entry is the record as it is written.
func (r *AuditRecord) Entry() AuditEntry {
	return AuditEntry{At: r.At, Actor: r.Actor, Role: r.Role, Method: r.Method, Path: r.Path, Account: r.Account, Status: r.Status}
}

// auditRetry says, inside the transaction of an idempotent write, that the request repeats one
// already done: it is answered as the first time, with 200.
func auditRetry(ctx context.Context) {
	if r := AuditOf(ctx); r != nil {
		r.Status = 200
	}
}

// AuditAccount names, inside the operation, the account a write concerns when its path does
// not (a new account's, an invoice's, a dispute's).
func AuditAccount(ctx context.Context, account string) {
	if r := AuditOf(ctx); r != nil && r.Account == "" {
		r.Account = account[:min(len(account), ledger.MaxRecordIDLength)]
	}
}

// RecordAudit records r on its own when no transaction of its operation did (a refused write,
// a retry, an operation that changed nothing).
func (s *Service) RecordAudit(ctx context.Context, r *AuditRecord) error {
	if r.Written || s.Audits == nil {
		return nil
	}
	// Recorded once: the transaction that records it must not find it in its context again.
	if err := s.Audits.RecordAudit(withoutAudit(context.WithoutCancel(ctx)), r.Entry()); err != nil {
		return err
	}
	r.Written = true
	return nil
}

// Audit lists the audit trail (CONTRACT 3.10).
func (s *Service) Audit(ctx context.Context, after int64, account string, limit int) ([]AuditEntry, error) {
	return s.Audits.Audit(ctx, after, account, limit)
}
