// Package events connects the ledger to NATS JetStream: the embedded server of the default run,
// the USAGE stream and its durable consumer that feeds usage into charging, and the relay that
// publishes the outbox to the BILLING stream.
//
// Ingestion is a two-stage pipeline: one goroutine gathers a batch from the consumer and
// prepares it (decode, validate, rate: no database), while the other commits the previous batch
// in one database transaction and then acknowledges its messages. A message is acknowledged only
// after the transaction holding its charge (or its parking) has committed, and the charge's
// unique event id makes a redelivery after a crash a recognised duplicate: exactly once.
package events
