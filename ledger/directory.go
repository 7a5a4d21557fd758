package ledger

import "sync"

// Directory is the in-memory record of which accounts exist and their standing, read on every
// event without touching the database. The store fills it at start; account changes update it
// after they commit. Readers of a whole batch take the lock once (View), not once per event.
type Directory struct {
	mu       sync.RWMutex
	accounts map[string]AccountState
}

// NewDirectory returns a directory holding states.
func NewDirectory(states map[string]AccountState) *Directory {
	if states == nil {
		states = map[string]AccountState{}
	}
	return &Directory{accounts: states}
}

// Lookup returns an account's state.
func (d *Directory) Lookup(id string) (AccountState, bool) {
	d.mu.RLock()
	s, ok := d.accounts[id]
	d.mu.RUnlock()
	return s, ok
}

// View calls fn with a lookup that reads the directory under one read lock, for a batch.
func (d *Directory) View(fn func(AccountDirectory)) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	fn(lockedView{d.accounts})
}

type lockedView struct{ accounts map[string]AccountState }

func (v lockedView) Lookup(id string) (AccountState, bool) {
	s, ok := v.accounts[id]
	return s, ok
}

// Put records an account's state.
func (d *Directory) Put(id string, s AccountState) {
	d.mu.Lock()
	d.accounts[id] = s
	d.mu.Unlock()
}

// Len returns how many accounts the directory holds.
func (d *Directory) Len() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.accounts)
}
