package sql

import (
	"encoding/binary"
	"slices"
)

// rowWriter is what a batch's rows are written into, value after value: blobRows for SQLite,
// copyRows for PostgreSQL.
type rowWriter interface {
	// row starts a row.
	row()
	int(v int64)
	text(s string)
	json(s []byte)
	null()
	// transaction writes the place of the row's journal transaction id, which is known only
	// when the batch is written: COPY data holds it in each row (copyRows.setTransaction); a
	// statement over ledger_rows binds it once, so a BLOB row has no such column.
	transaction()
}

var (
	_ rowWriter = (*blobRows)(nil)
	_ rowWriter = (*copyRows)(nil)
)

// nullableInt writes 0 as NULL (an absent line id).
func nullableInt(w rowWriter, v int64) {
	if v == 0 {
		w.null()
		return
	}
	w.int(v)
}

// nullableText writes "" as NULL (an absent pseudonym).
func nullableText(w rowWriter, s string) {
	if s == "" {
		w.null()
		return
	}
	w.text(s)
}

// blobRows are rows for one statement as one BLOB parameter, which the SQLite engine's
// ledger_rows table-valued function reads (sql/sqlite/rows.c): the batch's charges, journal
// entries and balance updates. One bound value a statement, as with JSON, but SQLite neither
// parses it nor allocates per value: measured, extracting the values of JSON rows was two
// fifths of SQLite's time in ingestion (issue 19).
//
// The BLOB is the number of columns of a row (1 to 16), then the values, row after row: 0x00
// for NULL; 0x01 and 8 bytes for an integer (little-endian); 0x02, a 4-byte little-endian
// length and the bytes for text.
type blobRows struct {
	b []byte
}

const (
	blobNull = 0
	blobInt  = 1
	blobText = 2
	// blobMaxColumns is the most columns ledger_rows has.
	blobMaxColumns = 16
)

// newBlobRows starts rows of columns values each, with room for rows of about rowBytes.
func newBlobRows(columns, rows, rowBytes int) blobRows {
	if columns < 1 || columns > blobMaxColumns {
		panic("sql: ledger_rows takes 1 to 16 columns")
	}
	b := make([]byte, 1, 1+rows*rowBytes)
	b[0] = byte(columns)
	return blobRows{b}
}

// reset drops the rows and keeps the column count and the array, for the next rows (the
// statement that took the BLOB has copied it).
func (r *blobRows) reset() { r.b = r.b[:1] }

func (r *blobRows) int(v int64) {
	r.b = binary.LittleEndian.AppendUint64(append(r.b, blobInt), uint64(v))
}

func (r *blobRows) text(s string) { r.b = appendBlobText(r.b, s) }

// json writes JSON text held in bytes (the charge's rating, built in a buffer) as text.
func (r *blobRows) json(s []byte) { r.b = appendBlobText(r.b, s) }

// appendBlobText appends a text value: its type, its length, its bytes.
func appendBlobText[T string | []byte](b []byte, s T) []byte {
	return append(binary.LittleEndian.AppendUint32(append(b, blobText), uint32(len(s))), s...)
}

func (r *blobRows) null() { r.b = append(r.b, blobNull) }

// row: a BLOB's rows follow one another, each of the columns newBlobRows was given.
func (r *blobRows) row() {}

// transaction: the statement binds the transaction id (rowWriter).
func (r *blobRows) transaction() {}

// bytes is the BLOB, to bind as the statement's parameter.
func (r *blobRows) bytes() []byte { return r.b }

// copyRows are rows in PostgreSQL's binary COPY format, for an engine with BulkCopy: the
// batch's charges, encoded while planning, beside the writer, so that the commit only streams
// bytes. Measured (issue 19) against rows of Go values that the driver encoded during the
// commit, one value at a time after reading the columns' types from the server: see
// BulkCopier.
//
// The format (PostgreSQL's COPY, "Binary Format"): a signature, flags and header extension
// length (both 0), then each row as a 16-bit field count and its fields, each a 32-bit length
// (-1 for NULL) and the value in the type's binary form, big-endian; then -1 as a field count.
// The columns here are bigint (8 bytes), text and json (their UTF-8 bytes), and jsonb (version
// 1, then the text).
type copyRows struct {
	b       []byte
	columns int
	txAt    []int // where each row's transaction id is (transaction)
	jsonb   bool  // json writes jsonb (a ledger whose charges.rating migration 0014 left so)
}

var copySignature = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// newCopyRows starts rows of columns fields each, with room for rows of about rowBytes.
func newCopyRows(columns, rows, rowBytes int) copyRows {
	return copyRowsOver(copyRows{}, columns, rows, rowBytes)
}

// copyRowsOver is newCopyRows writing over the array of spare, rows no one reads any more.
func copyRowsOver(spare copyRows, columns, rows, rowBytes int) copyRows {
	b := slices.Grow(spare.b[:0], len(copySignature)+rows*rowBytes+2)
	return copyRows{b: append(b, copySignature...), columns: columns, txAt: spare.txAt[:0]}
}

func (r *copyRows) row() {
	r.b = binary.BigEndian.AppendUint16(r.b, uint16(r.columns))
}

func (r *copyRows) int(v int64) {
	r.b = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(r.b, 8), uint64(v))
}

// transaction writes a bigint that setTransaction sets.
func (r *copyRows) transaction() {
	r.int(0)
	r.txAt = append(r.txAt, len(r.b)-8)
}

// setTransaction sets every row's transaction id; a batch written again (its group retried)
// sets it again.
func (r *copyRows) setTransaction(id int64) {
	for _, at := range r.txAt {
		r.setInt(at, id)
	}
}

// seqAndTransaction writes two bigints, side by side: the row's seq, which setSeqs sets, and
// its transaction id, which setTransaction sets (chargeCopyColumns).
func (r *copyRows) seqAndTransaction() {
	r.int(0)
	r.transaction()
}

// setSeqs numbers the rows written by seqAndTransaction from first on, in order: each row's seq
// is the bigint before its transaction id, 12 bytes back (8 of value, 4 of the next length).
func (r *copyRows) setSeqs(first int64) {
	for i, at := range r.txAt {
		r.setInt(at-12, first+int64(i))
	}
}

// rows is how many rows carry a transaction id.
func (r *copyRows) rows() int { return len(r.txAt) }

func (r *copyRows) setInt(at int, v int64) { binary.BigEndian.PutUint64(r.b[at:], uint64(v)) }

func (r *copyRows) text(s string) {
	r.b = append(binary.BigEndian.AppendUint32(r.b, uint32(len(s))), s...)
}

// json writes JSON text as a json value, its text (charges.rating, migration 0014), or as a
// jsonb value, version 1 then the text, where the column is jsonb.
func (r *copyRows) json(s []byte) {
	if r.jsonb {
		r.b = append(append(binary.BigEndian.AppendUint32(r.b, uint32(1+len(s))), 1), s...)
		return
	}
	r.b = append(binary.BigEndian.AppendUint32(r.b, uint32(len(s))), s...)
}

func (r *copyRows) null() { r.b = binary.BigEndian.AppendUint32(r.b, 0xffffffff) }

// end closes the rows; nothing is added after it.
func (r *copyRows) end() { r.b = binary.BigEndian.AppendUint16(r.b, 0xffff) }

// bytes is the COPY data, once ended.
func (r *copyRows) bytes() []byte { return r.b }
