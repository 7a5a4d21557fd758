package sql

import (
	"context"
	"fmt"
	"slices"
	"time"

	"ledger/billing"
	"ledger/ledger"
	"ledger/money"
	"ledger/pricing"
)

// UseCredit gives the store the book of accounts it keeps up to date (with the policy that
// decides notices and suspension) and fills it from the database. Without it, charging does no
// credit control.
func (s *Store) UseCredit(ctx context.Context, book *ledger.CreditBook, policy ledger.CreditPolicy) error {
	credits, terms, err := s.readCredits(ctx, policy)
	if err != nil {
		return err
	}
	s.writeMu.Lock()
	s.installCredits(book, credits, terms)
	s.credit, s.policy = book, policy
	s.writeMu.Unlock()
	return nil
}

// readCredits reads every account's credit as the book keeps it, and the terms of the accounts
// whose agreement opts out of indexation (T&C 3.4); readAgreements adds the agreed prices.
func (s *Store) readCredits(ctx context.Context, policy ledger.CreditPolicy) ([]ledger.Credit, map[string]pricing.Terms, error) {
	// R4: exposure is unbilled usage plus outstanding invoices less the customer's credit.
	rows, err := s.db.QueryContext(ctx, s.engine.q("creditRows"))
	if err != nil {
		return nil, nil, fmt.Errorf("read credit: %w", err)
	}
	defer rows.Close()
	var credits []ledger.Credit
	terms := map[string]pricing.Terms{}
	for rows.Next() {
		var c ledger.Credit
		var typ, status, notified string
		var indexation bool
		var closedAt instant
		if err := rows.Scan(&c.Account, &typ, &status, &closedAt, &c.Limit, &notified, &indexation, &c.Exposure); err != nil {
			return nil, nil, err
		}
		c.ClosedAt = closedAt.Time // as stored; what it means for traffic is ledger.OwedBeforeClosure's

		if !indexation {
			terms[c.Account] = pricing.Terms{NoIndexation: true} // T&C 3.4: the agreement opts out
		}
		c.Type, c.Status, c.Notified = ledger.AccountType(typ), ledger.Status(status), policy.ParseNotified(notified)
		if c.Type == ledger.Prepaid {
			c.Exposure = 0 // prepaid usage draws on lots, not on credit (R9)
		}
		credits = append(credits, c)
	}
	return credits, terms, rows.Err()
}

// installCredits puts what readCredits (and readAgreements) read in the book, with the
// prepaid lots (under writeMu). The terms go in in one swap: rating reads them beside this.
func (s *Store) installCredits(book *ledger.CreditBook, credits []ledger.Credit, terms map[string]pricing.Terms) {
	book.Apply(credits...)
	book.ReplaceTerms(terms)
	for _, slot := range s.prepaid.slots {
		book.AddPrepaid(slot)
	}
}

// evaluateCredit applies R4 to every customer whose exposure the transaction changed: in the
// same database transaction it records new statuses and notices (outbox), so that a crash can
// neither lose a notice nor send one twice; the book learns the new credit after commit.
func (s *Store) evaluateCredit(ctx context.Context, tx *ledger.Transaction, at time.Time) error {
	return s.evaluateCreditInto(ctx, tx, at, nil)
}

// evaluateCreditInto is evaluateCredit writing the new credits into *scratch's array when
// scratch is not nil: the ingestion's commit (CommitGroup, one a write transaction) passes the
// writer's own, since a group's customers are thousands and the book, which applies them at
// commit, keeps nothing of the array.
func (s *Store) evaluateCreditInto(ctx context.Context, tx *ledger.Transaction, at time.Time, scratch *[]ledger.Credit) error {
	if tx == nil || s.credit == nil {
		return nil
	}
	now := fmtTime(at)
	// Each customer is evaluated once per transaction, on the sum of its exposure entries. A
	// usage transaction is the only one of its commit to evaluate credit; other transactions may
	// follow one another in a commit, and each starts from what the commit left so far.
	usage := tx.Kind == ledger.KindUsage
	changes := ledger.ExposureChanges(*tx)
	var updated []ledger.Credit
	if scratch != nil {
		updated = slices.Grow((*scratch)[:0], len(changes))
		defer func() { *scratch = updated[:0] }()
	} else {
		updated = make([]ledger.Credit, 0, len(changes))
	}
	for _, ch := range changes {
		c, ok := s.pendingCredit(ch.Account)
		if !ok {
			return fmt.Errorf("credit of %s is not loaded", ch.Account)
		}
		c.Exposure += ch.Delta
		next, notices := s.policy.Evaluate(c, at)
		if err := s.recordCredit(ctx, c, next, notices, now); err != nil {
			return err
		}
		updated = append(updated, next)
	}
	if usage {
		s.onCommit(func() {
			s.credit.Apply(updated...)
			if scratch != nil {
				clear(updated) // the writer's array keeps no account's credit alive between groups
			}
		})
	} else {
		s.afterCreditCommit(updated)
	}
	return nil
}

// recordCredit writes what Evaluate changed: status, notified thresholds, notices.
func (s *Store) recordCredit(ctx context.Context, before, after ledger.Credit, notices []ledger.Notice, now string) error {
	if after.Status != before.Status || after.Notified != before.Notified {
		if err := s.later(ctx, "updateCredit", string(after.Status), s.policy.NotifiedThresholds(after.Notified), after.Account); err != nil {
			return fmt.Errorf("credit of %s: %w", after.Account, err)
		}
	}
	for _, n := range notices {
		if err := s.appendOutbox(ctx, n, now); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) afterCreditCommit(updated []ledger.Credit) {
	if s.pendingCredits == nil {
		s.pendingCredits = map[string]ledger.Credit{}
	}
	for _, c := range updated {
		s.pendingCredits[c.Account] = c
	}
	s.onCommit(func() { s.credit.Apply(updated...) })
}

// pendingCredit is an account's credit as the transaction in progress left it so far, else as
// committed.
func (s *Store) pendingCredit(account string) (ledger.Credit, bool) {
	if len(s.pendingCredits) > 0 {
		if c, ok := s.pendingCredits[account]; ok {
			return c, true
		}
	}
	return s.credit.Get(account)
}

// SetCreditLimit raises, lowers or cancels (0) an account's credit limit with immediate effect
// (T&C 3.6), recording who changed it and when, and re-evaluates the account at once: a lower
// limit can suspend it, a higher one resume it.
func (s *Store) SetCreditLimit(ctx context.Context, account string, limit money.Micros, by string, at time.Time) error {
	return s.inWrite(ctx, func() error {
		if s.credit == nil {
			return fmt.Errorf("credit control is not set up")
		}
		c, ok := s.pendingCredit(account)
		if !ok {
			return ledger.Errorf(ledger.CodeNotFound, "account %q does not exist", account)
		}
		changed, err := c.SetLimit(limit)
		if err != nil {
			return err
		}
		now := fmtTime(at)
		if _, err := s.write.ExecContext(ctx, `INSERT INTO credit_limit_changes(account_id, old_micros, new_micros, at, changed_by)
			VALUES (?, ?, ?, ?, ?)`, account, int64(c.Limit), int64(limit), now, by); err != nil {
			return fmt.Errorf("record the credit limit change: %w", err)
		}
		if _, err := s.write.ExecContext(ctx, `UPDATE accounts SET credit_limit_micros = ? WHERE id = ?`, int64(limit), account); err != nil {
			return fmt.Errorf("set the credit limit: %w", err)
		}
		next, notices := s.policy.Evaluate(changed, at)
		if err := s.recordCredit(ctx, c, next, notices, now); err != nil {
			return err
		}
		s.afterCreditCommit([]ledger.Credit{next})
		return nil
	})
}

// CreditLimitChanges lists an account's credit limit changes, oldest first.
func (s *Store) CreditLimitChanges(ctx context.Context, account string) ([]billing.CreditLimitChange, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT old_micros, new_micros, at, changed_by FROM credit_limit_changes
		WHERE account_id = ? ORDER BY id`, account)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []billing.CreditLimitChange
	for rows.Next() {
		var c billing.CreditLimitChange
		var at string
		if err := rows.Scan(&c.Old, &c.New, &at, &c.By); err != nil {
			return nil, err
		}
		if c.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
