// Package billing is the ledger's use cases: what a user, a platform service or the clock asks
// of the ledger — open an account, book a top-up or a payment, dispute an invoice, file a claim,
// terminate, run a billing period, run what has come due, charge a batch of events, move the
// test clock. A use case takes the time from the clock, checks what it is asked with the pure
// domain packages (ledger, pricing, invoices, money), and reaches storage only through the small
// interfaces declared here, one per aggregate (AccountStore, AgreementStore, LotStore,
// ReceivableStore, ClaimStore, BillingRunStore, ChargeStore, ParkedStore, OutboxStore,
// ClockStore). The adapters under sql/ implement them; api, events and service depend on this
// package, never on a store.
//
// Each store method is one transaction: what it writes commits together or not at all. Where
// the store still decides inside that transaction (charging a batch, a billing run, set-off of
// a payment, the due jobs), it does so by calling the domain's pure functions; docs/architecture.md
// says which use cases have moved here and which still run in the store.
package billing
