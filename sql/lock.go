package sql

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockDatabase takes an exclusive, non-blocking lock on PATH.lock beside the SQLite file at
// path (created if needed) for as long as the process lives or until the returned function is
// called. SQLite would let a second ledgerd open the same file, and two writers with their own
// in-memory journal heads would corrupt the chains: the lock refuses the second one at start.
func lockDatabase(dbPath string) (func(), error) {
	path := dbPath + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("the SQLite database %s is in use by a running ledgerd (it holds %s): stop it first, or give this ledgerd a database of its own (--data or --db); several instances on one ledger need PostgreSQL (--db postgres://…)", dbPath, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
