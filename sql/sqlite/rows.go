package sqlite

// #include "rows.h"
// int ledger_register_rows(void);
// int ledger_memstatus_off(void);
import "C"

import "fmt"

// init runs before any connection is opened. SQLite stops counting its memory, which takes a
// process-wide mutex on every allocation (it can only fail if SQLite was initialised before,
// and then SQLite counts, nothing else changes); and every connection gets ledger_rows, which
// the batch statements read their rows from (rows.c, sql.blobRows).
func init() {
	C.ledger_memstatus_off()
	if rc := C.ledger_register_rows(); rc != C.SQLITE_OK {
		panic(fmt.Sprintf("sqlite: register ledger_rows: SQLite error %d", int(rc)))
	}
}
