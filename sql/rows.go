package sql

import "encoding/binary"

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

// textBytes writes text held in bytes (the charge's rating, built in a buffer).
func (r *blobRows) textBytes(s []byte) { r.b = appendBlobText(r.b, s) }

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
