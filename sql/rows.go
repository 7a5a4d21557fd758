package sql

import "encoding/binary"

// rowWriter is what a batch's rows are written into, value after value: blobRows for SQLite,
// copyRows for PostgreSQL.
type rowWriter interface {
	int(v int64)
	text(s string)
	json(s []byte)
	null()
	nullableInt(v int64)   // 0 as NULL
	nullableText(s string) // "" as NULL
}

var (
	_ rowWriter = (*blobRows)(nil)
	_ rowWriter = (*copyRows)(nil)
)

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

// nullableText writes "" as NULL.
func (r *blobRows) nullableText(s string) {
	if s == "" {
		r.null()
		return
	}
	r.text(s)
}

// nullableInt writes 0 as NULL.
func (r *blobRows) nullableInt(v int64) {
	if v == 0 {
		r.null()
		return
	}
	r.int(v)
}

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
// The columns here are bigint (8 bytes), text (its UTF-8 bytes) and jsonb (version 1, then
// the JSON text).
type copyRows struct {
	b []byte
}

var copySignature = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// newCopyRows starts rows, with room for rows of about rowBytes.
func newCopyRows(rows, rowBytes int) copyRows {
	b := make([]byte, 0, len(copySignature)+rows*rowBytes+2)
	return copyRows{append(b, copySignature...)}
}

// row starts a row of columns fields.
func (r *copyRows) row(columns int) {
	r.b = binary.BigEndian.AppendUint16(r.b, uint16(columns))
}

func (r *copyRows) int(v int64) {
	r.b = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(r.b, 8), uint64(v))
}

// intLater writes an integer to be set later (setInt), and returns where it is.
func (r *copyRows) intLater() int {
	r.int(0)
	return len(r.b) - 8
}

// setInt sets the integer intLater wrote at.
func (r *copyRows) setInt(at int, v int64) { binary.BigEndian.PutUint64(r.b[at:], uint64(v)) }

func (r *copyRows) text(s string) {
	r.b = append(binary.BigEndian.AppendUint32(r.b, uint32(len(s))), s...)
}

// json writes JSON text as a jsonb value.
func (r *copyRows) json(s []byte) {
	r.b = append(append(binary.BigEndian.AppendUint32(r.b, uint32(1+len(s))), 1), s...)
}

func (r *copyRows) null() { r.b = binary.BigEndian.AppendUint32(r.b, 0xffffffff) }

// nullableText writes "" as NULL.
func (r *copyRows) nullableText(s string) {
	if s == "" {
		r.null()
		return
	}
	r.text(s)
}

// nullableInt writes 0 as NULL.
func (r *copyRows) nullableInt(v int64) {
	if v == 0 {
		r.null()
		return
	}
	r.int(v)
}

// end closes the rows; nothing is added after it.
func (r *copyRows) end() { r.b = binary.BigEndian.AppendUint16(r.b, 0xffff) }

// bytes is the COPY data, once ended.
func (r *copyRows) bytes() []byte { return r.b }
