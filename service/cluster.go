package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"ledger/billing"
	"ledger/events"
)

// Several ledgerd on one database (docs/scaling.md). Every instance serves the API and
// billing.authorize; the one holding the leader lease also ingests and runs the once-only jobs:
// the clock's due jobs and billing runs, the retention job, the outbox relay and the writing of
// the open invoice lines. The others stand by and take the lease within LeaseRetryInterval of
// its holder's death (the database frees it when the holder's connection ends).

// Cluster timings.
const (
	// LeaseRetryInterval is how often an instance standing by tries to take the leader lease.
	LeaseRetryInterval = 2 * time.Second
	// RefreshInterval is how often an instance brings what it answers from (the credit book, the
	// test clock) up to what the others wrote.
	RefreshInterval = time.Second
	// ConsumerCheckInterval is how often the leader checks the usage consumer still exists, and
	// creates it again when it does not.
	ConsumerCheckInterval = 5 * time.Second
)

// Leading reports whether this instance holds the leader lease.
func (s *Service) Leading() bool { return s.leading.Load() }

// catchUp runs what fell due while no instance watched the clock, in time order, before this
// instance, newly the leader, charges anything.
func (s *Service) catchUp(ctx context.Context) error {
	n, err := s.Billing.RunDue(ctx, s.Clock.Now())
	if err != nil {
		return fmt.Errorf("catch up with what fell due: %w", err)
	}
	if n > 0 {
		s.Config.Log.Info("caught up with what fell due while stopped", "items", n)
	}
	return nil
}

// leadLoop holds the leader lease while it can and leads with it; without it, it stands by and
// tries to take it every LeaseRetryInterval, until ctx ends.
func (s *Service) leadLoop(ctx context.Context, lease billing.Lease, leading bool) {
	log := s.Config.Log
	if !leading {
		log.Info("standing by: another instance holds the leader lease and ingests; this one serves the API", "instance", s.Config.Instance)
	}
	for {
		if leading {
			s.lead(ctx, lease)
			lease.Release()
			if ctx.Err() != nil {
				return
			}
			log.Warn("stopped leading (the database connection that held the lease ended, or ingestion stopped here): ingestion and the once-only jobs stopped on this instance; standing by",
				"instance", s.Config.Instance)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(LeaseRetryInterval):
		}
		var err error
		if lease, leading, err = s.Store.Lead(ctx); err != nil {
			if ctx.Err() == nil {
				log.Error("take the leader lease", "err", err)
			}
			continue
		}
		if leading {
			log.Info("took the leader lease: ingesting and running the once-only jobs", "instance", s.Config.Instance)
			if err := s.catchUp(ctx); err != nil && ctx.Err() == nil {
				log.Error("catch up with what fell due; the clock tries again each second", "err", err)
			}
		}
	}
}

// lead ingests and runs the once-only jobs until ctx ends or the lease is lost.
func (s *Service) lead(ctx context.Context, lease billing.Lease) {
	term, cancel := context.WithCancel(ctx)
	defer cancel()
	s.leading.Store(true)
	s.leader.Set(1)
	defer func() { s.leading.Store(false); s.leader.Set(0) }()
	var wg sync.WaitGroup
	ingesting := make(chan struct{})
	wg.Add(4)
	go func() { defer wg.Done(); s.runClock(term) }()
	go func() { defer wg.Done(); s.Store.RunUpkeep(term, s.Config.Log) }()
	go func() { defer wg.Done(); defer close(ingesting); s.ingest(term) }()
	go func() { defer wg.Done(); s.Relay.Run(term) }()
	// The term ends with ctx, with the lease, or when ingestion stops for good here (Failed
	// says why): another instance may be able to ingest.
	select {
	case <-ctx.Done():
	case <-lease.Lost:
	case <-ingesting:
	}
	cancel()
	wg.Wait()
}

// usageConsumer is the usage consumer as last created.
func (s *Service) usageConsumer() jetstream.Consumer {
	s.consumerMu.Lock()
	defer s.consumerMu.Unlock()
	return s.consumer
}

// ingest charges usage until ctx ends. Every ConsumerCheckInterval it checks the consumer still
// exists: one deleted under it (by an operator, or lost with its stream's replicas) is created
// again and ingestion starts over on it; the stream's events are then delivered again and each
// charged once (R1).
func (s *Service) ingest(ctx context.Context) {
	for {
		run, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- s.Ingestor.Run(run) }()
		recreated, finished, err := s.watchConsumer(run, done)
		stop()
		if !finished {
			err = <-done
		}
		if err != nil {
			s.Config.Log.Error("ingestion stopped", "err", err)
			select {
			case s.ingestErr <- err:
			default:
			}
			return
		}
		if ctx.Err() != nil {
			return
		}
		if recreated != nil {
			s.consumerMu.Lock()
			s.consumer = recreated
			s.consumerMu.Unlock()
			s.Ingestor.Consumer = recreated
		}
	}
}

// watchConsumer waits until ctx ends, ingestion stops (finished, with its error), or the
// consumer was deleted and has been created again (recreated).
func (s *Service) watchConsumer(ctx context.Context, done <-chan error) (recreated jetstream.Consumer, finished bool, err error) {
	t := time.NewTicker(ConsumerCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, false, nil
		case err := <-done:
			return nil, true, err
		case <-t.C:
		}
		check, cancel := context.WithTimeout(ctx, ConsumerCheckInterval)
		_, err := s.usageConsumer().Info(check)
		cancel()
		if !errors.Is(err, jetstream.ErrConsumerNotFound) {
			continue
		}
		s.Config.Log.Error("the usage consumer was deleted: creating it again; the events still in the stream are delivered again and charged once",
			"consumer", events.ConsumerName, "stream", events.UsageStream)
		db, err := s.database(ctx)
		if err == nil {
			var c jetstream.Consumer
			if c, err = events.EnsureConsumer(ctx, s.JS, events.ConsumerName, s.Config.AckWait, events.InFlight(s.Config.BatchSize, s.Config.CommitGroup), db); err == nil {
				return c, false, nil
			}
		}
		if ctx.Err() == nil {
			s.Config.Log.Error("create the usage consumer again; trying again", "err", err)
		}
	}
}

// refreshLoop brings, every RefreshInterval, what this instance answers from up to what the
// other instances wrote (alone on its database: nothing to do).
func (s *Service) refreshLoop(ctx context.Context) {
	if !s.Store.Clustered() {
		return
	}
	t := time.NewTicker(RefreshInterval)
	defer t.Stop()
	var failing bool
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := s.Store.Refresh(ctx)
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			s.Config.Log.Warn("read what other instances wrote; the API answers from what it last read", "err", err)
		case err == nil && failing:
			s.Config.Log.Info("reading what other instances wrote again")
		}
		failing = err != nil
	}
}
