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
//	customer:<id>:unbilled     rated usage not yet invoiced (an asset, debit positive)
//	revenue:usage:<channel>    usage revenue per channel (credit, negative)
//	revenue:surcharges         operator and regulatory surcharges, SST 6.3 caller-ID surcharge
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
