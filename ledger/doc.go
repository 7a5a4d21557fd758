// Package ledger holds the rules of the money record: accounts and their terms, usage events and
// how a batch of them becomes charges, and the double-entry journal those charges are posted to.
//
// The package is pure: it imports no database, NATS or HTTP package. Time comes from a
// clock.Clock, prices from a pricing.Tariffs; the sql package stores what this package decides
// and the events package feeds it.
//
// # The journal
//
// Money moves only in transactions whose entries sum to zero (RULES.md invariant 1). Ledger
// accounts are named by kind:
//
//	customer:<id>:unbilled        rated usage not yet invoiced (an asset, debit positive)
//	customer:<id>:lot:<topup>     a prepaid top-up: what is left of it (a liability, credit)
//	customer:<id>:shortfall       prepaid usage no usable lot covered (R9; an asset)
//	customer:<id>:chargebacks     charged back beyond the prepaid balance (R10; an asset)
//	revenue:usage:<channel>       usage revenue per channel (credit, negative)
//	revenue:surcharges            operator and regulatory surcharges, SST 6.3 caller-ID surcharge
//	revenue:prepaid:expired       prepaid credit forfeited at expiry (R9)
//	asset:cash:<method>           money received by card or bank (top-ups)
//	expense:liability_claims      claims granted under the liability cap (R12; against
//	                              customer:<id>:credit, set off against open invoices, R8)
//
// # Prepaid credit
//
// A prepaid account's lots, shortfall and closure facts are a PrepaidCredit, changed only as a
// copy inside a transaction and published through a PrepaidSlot once it commits: charging draws
// on it (Draw, ClearShortfall), chargebacks set off against it (SetOff), the clock makes lots
// usable and expires them, and ClosureDue says when T&C 3.15 closes the account.
//
// # Charging usage
//
// Every usage event is charged once, ever (R1): its charge is one row naming the event, with its
// rated amounts, written once. Those charges are posted to the journal per batch: one
// transaction per ingested batch whose entries aggregate the batch's charges per customer and
// per revenue account, so that charging costs one row per event and not one transaction, four
// rows and a balance update per event. The charges of a transaction always sum to its customer
// entries; the invariant checker verifies this over the whole database.
package ledger
