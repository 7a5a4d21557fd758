package sql_test

import (
	"context"
	"time"

	"ledger/billing"
	"ledger/clock"
	"ledger/invoices"
	"ledger/ledger"
	"ledger/sql"
)

// The use cases that decide in package billing and save through the store's transactions are
// driven here through billing.Service, at a given instant, on the store under test.

// fileClaim files a claim through the use case (billing.Service.FileClaim) on the store, at now:
// the claim is decided there and booked here, in one of the store's transactions.
func fileClaim(ctx context.Context, store *sql.Store, account string, c ledger.Claim, by string, now time.Time) (billing.ClaimView, bool, error) {
	return useCasesAt(store, now).FileClaim(ctx, account, c, by)
}

// addPayment books a payment through the use case (billing.Service.AddPayment) at now.
func addPayment(ctx context.Context, store *sql.Store, account string, p billing.NewPayment, by string, now time.Time) (billing.PaymentView, bool, error) {
	return useCasesAt(store, now).AddPayment(ctx, account, p, by)
}

// useCasesAt is the use cases over store, on a test clock standing at now.
func useCasesAt(store *sql.Store, now time.Time) *billing.Service {
	test := clock.NewTest(now, true)
	return billing.New(billing.StoresOf(store), test, test, ledger.NewCreditBook(), nil)
}

// openDispute disputes an invoice through the use case at now.
func openDispute(ctx context.Context, store *sql.Store, invoice string, d billing.NewDispute, now time.Time) (billing.DisputeView, bool, error) {
	return useCasesAt(store, now).OpenDispute(ctx, invoice, d)
}

// resolveDispute resolves a dispute through the use case at now.
func resolveDispute(ctx context.Context, store *sql.Store, id, outcome, by string, now time.Time) (billing.DisputeView, error) {
	return useCasesAt(store, now).ResolveDispute(ctx, id, outcome, by)
}

// topUp books a validated top-up through the use case at now.
func topUp(ctx context.Context, store *sql.Store, account string, t ledger.TopUp, by string, now time.Time) (billing.LotView, bool, error) {
	return useCasesAt(store, now).BookTopUp(ctx, account, t, by)
}

// bookTopUps books top-ups in one transaction through the use case at now.
func bookTopUps(ctx context.Context, store *sql.Store, list []billing.AccountTopUp, by string, now time.Time) error {
	return useCasesAt(store, now).BookTopUps(ctx, list, by)
}

// terminate ends an agreement through the use case at now (what fell due runs first).
func terminate(ctx context.Context, store *sql.Store, account string, at time.Time, by string, now time.Time) error {
	return useCasesAt(store, now).Terminate(ctx, account, at, by)
}

// runDue runs what has fallen due up to now, as the clock does (billing.Service.RunDue).
func runDue(ctx context.Context, store *sql.Store, now time.Time) (int, error) {
	return useCasesAt(store, now).RunDue(ctx, now)
}

// runBilling invoices a period on request through the use case at now (RunPeriods: a period
// that ran or has not ended is a conflict).
func runBilling(ctx context.Context, store *sql.Store, period invoices.Period, now time.Time, by string) ([]billing.BillingRun, error) {
	return useCasesAt(store, now).RunPeriods(ctx, period, by)
}
