package billing

import "context"

// Lease is the leader lease of a cluster of ledgerd on one database (docs/scaling.md): the
// instance holding it ingests and runs the once-only jobs. Lost is closed when it is lost;
// Release gives it up.
type Lease struct {
	Lost    <-chan struct{}
	Release func()
}

// ClusterStore is what several ledgerd on one database need of their store.
type ClusterStore interface {
	// Lead tries once to take the leader lease; ok is false while another instance holds it.
	Lead(ctx context.Context) (lease Lease, ok bool, err error)
	// Refresh brings what this instance answers from (the credit book, the test clock) up to
	// what the other instances wrote.
	Refresh(ctx context.Context) error
}

// refresh brings this instance's view up to the cluster's before a use case that decides by
// it (the clock's time, above all); nothing to do for a ledgerd alone on its database.
func (s *Service) refresh(ctx context.Context) error {
	if s.Cluster == nil {
		return nil
	}
	return s.Cluster.Refresh(ctx)
}
