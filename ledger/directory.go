package ledger

import "sync"

// Directory is the in-memory record of which accounts exist and their standing, read on every
// event without touching the database (a sync.Map: reads take no lock). The store fills it at
// start; account changes update it after they commit.
type Directory struct {
	accounts sync.Map // id → AccountState
	count    int
	mu       sync.Mutex // serialises Put, for count
}

// NewDirectory returns a directory holding states.
func NewDirectory(states map[string]AccountState) *Directory {
	d := &Directory{}
	for id, s := range states {
		d.accounts.Store(id, s)
	}
	d.count = len(states)
	return d
}

// Lookup returns an account's state.
func (d *Directory) Lookup(id string) (AccountState, bool) {
	v, ok := d.accounts.Load(id)
	if !ok {
		return AccountState{}, false
	}
	return v.(AccountState), true
}

// Put records an account's state.
func (d *Directory) Put(id string, s AccountState) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, loaded := d.accounts.Swap(id, s); !loaded {
		d.count++
	}
}

// Len returns how many accounts the directory holds.
func (d *Directory) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.count
}
