package pricing

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"ledger/clock"
	"ledger/money"

	"github.com/shopspring/decimal"
)

// The file names Load reads from a tariff directory (CONTRACT section 4).
const (
	PricesFile     = "prices.csv"
	SurchargesFile = "surcharges.csv"
	CPIFile        = "cpi.csv"
	InterestFile   = "interest.csv"
)

// Columns of each file. Columns may come in any order; an unknown column is refused, so that a
// misspelt header is not silently read as empty. Columns not listed as required may be left
// out, which is the same as leaving them empty on every row.
var (
	priceColumns = []string{"channel", "product", "direction", "prefix", "country", "unit_price",
		"min_seconds", "increment_seconds", "valid_from", "description"}
	priceRequired     = []string{"channel", "unit_price", "valid_from"}
	surchargeColumns  = []string{"channel", "product", "direction", "prefix", "country", "unit_price", "applies_to", "valid_from", "description"}
	surchargeRequired = []string{"unit_price", "applies_to", "valid_from"}
	cpiColumns        = []string{"year", "change"}
	interestColumns   = []string{"valid_from", "annual_rate"}
)

// Load reads prices.csv and surcharges.csv (required), cpi.csv and interest.csv (optional:
// absent = empty) from dir. Errors name the file, line and column.
func Load(dir string) (*Tariffs, error) {
	return loadFrom(os.DirFS(dir), dir, func(name string) string { return filepath.Join(dir, name) })
}

// LoadFS reads a tariff set from a file system (the example set embedded in the binary), with
// the same files and rules as Load.
func LoadFS(fsys fs.FS) (*Tariffs, error) {
	return loadFrom(fsys, "(built in)", func(name string) string { return name })
}

// loadFrom reads the four files from fsys; pathOf names a file in messages (which already say
// file, line and column), label the set in errors about the set as a whole.
func loadFrom(fsys fs.FS, label string, pathOf func(string) string) (*Tariffs, error) {
	prices, err := loadFile(fsys, PricesFile, pathOf, true, ParsePrices)
	if err != nil {
		return nil, err
	}
	surcharges, err := loadFile(fsys, SurchargesFile, pathOf, true, ParseSurcharges)
	if err != nil {
		return nil, err
	}
	cpi, err := loadFile(fsys, CPIFile, pathOf, false, ParseCPI)
	if err != nil {
		return nil, err
	}
	interest, err := loadFile(fsys, InterestFile, pathOf, false, ParseInterest)
	if err != nil {
		return nil, err
	}
	t, err := New(prices, surcharges, cpi, interest)
	if err != nil {
		return nil, fmt.Errorf("tariffs %s: %w", label, err)
	}
	return t, nil
}

func loadFile[R any](fsys fs.FS, name string, pathOf func(string) string, required bool, parse func(string, io.Reader) ([]R, error)) ([]R, error) {
	path := pathOf(name)
	f, err := fsys.Open(name)
	if err != nil {
		if !required && errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("tariffs: open %s: %w", path, err)
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Size() > MaxFileBytes {
		return nil, &tariffError{file: path, err: fmt.Errorf("larger than %d bytes", MaxFileBytes)}
	}
	return parse(path, f)
}

// ParsePrices reads a prices.csv; name is used in messages ("prices.csv:4:6 (unit_price): …").
// It refuses two rows with the same key and valid_from, naming both lines.
func ParsePrices(name string, r io.Reader) ([]PriceRow, error) {
	var rows []PriceRow
	firstLine := make(map[versionDate]int)
	err := readTable(name, r, priceColumns, priceRequired, func(rec *record) error {
		key, err := rec.keyColumns(false)
		if err != nil {
			return err
		}
		row := PriceRow{
			Channel: key.channel, Product: key.product, Direction: key.direction, Prefix: key.prefix,
			Country: key.country, UnitPrice: key.unitPrice, ValidFrom: key.validFrom,
			Description: key.description, Line: rec.line,
			MinSeconds: 0, IncrementSeconds: 1, // R2: empty = no minimum, per-second increments
		}
		minText, incrementText := rec.get("min_seconds"), rec.get("increment_seconds")
		if row.Channel != ChannelVoice {
			// R2: minimum and increment are a voice rule; on another channel they would be ignored.
			for _, column := range []string{"min_seconds", "increment_seconds"} {
				if rec.get(column) != "" {
					return rec.fail(column, fmt.Errorf("%s is for voice only, not %s", column, row.Channel))
				}
			}
		}
		if minText != "" {
			if row.MinSeconds, err = parseSeconds(minText, 0); err != nil {
				return rec.fail("min_seconds", err)
			}
		}
		if incrementText != "" {
			if row.IncrementSeconds, err = parseSeconds(incrementText, 1); err != nil {
				return rec.fail("increment_seconds", err)
			}
		}
		dated := versionDate{key: key.versionKey, date: row.ValidFrom}
		if first, seen := firstLine[dated]; seen {
			return rec.failLine(fmt.Errorf("same key (%s) and valid_from %s as line %d", describeKey(key.versionKey), row.ValidFrom, first))
		}
		firstLine[dated] = rec.line
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// ParseSurcharges reads a surcharges.csv. A row's channel may be empty (any channel).
func ParseSurcharges(name string, r io.Reader) ([]SurchargeRow, error) {
	var rows []SurchargeRow
	firstLine := make(map[versionDate]int)
	err := readTable(name, r, surchargeColumns, surchargeRequired, func(rec *record) error {
		key, err := rec.keyColumns(true)
		if err != nil {
			return err
		}
		appliesTo := rec.get("applies_to")
		if err := checkAppliesTo(key.channel, appliesTo); err != nil {
			return rec.fail("applies_to", err)
		}
		key.appliesTo = appliesTo
		dated := versionDate{key: key.versionKey, date: key.validFrom}
		if first, seen := firstLine[dated]; seen {
			return rec.failLine(fmt.Errorf("same key (%s) and valid_from %s as line %d", describeKey(key.versionKey), key.validFrom, first))
		}
		firstLine[dated] = rec.line
		rows = append(rows, SurchargeRow{
			Channel: key.channel, Product: key.product, Direction: key.direction, Prefix: key.prefix,
			Country: key.country, UnitPrice: key.unitPrice, AppliesTo: appliesTo,
			ValidFrom: key.validFrom, Description: key.description, Line: rec.line,
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// ParseCPI reads a cpi.csv: year,change, the change a fraction that may be negative (R3).
func ParseCPI(name string, r io.Reader) ([]CPIRow, error) {
	var rows []CPIRow
	firstLine := make(map[int]int)
	err := readTable(name, r, cpiColumns, cpiColumns, func(rec *record) error {
		yearText := rec.get("year")
		year, err := strconv.Atoi(yearText)
		if err != nil {
			return rec.fail("year", fmt.Errorf("%q is not a year", yearText))
		}
		change, err := money.Parse(rec.get("change"))
		if err != nil {
			return rec.fail("change", err)
		}
		row := CPIRow{Year: year, Change: change}
		if err := checkCPIRow(row); err != nil {
			column := "change"
			if year < minCPIYear || year > maxCPIYear {
				column = "year"
			}
			return rec.fail(column, err)
		}
		if first, seen := firstLine[year]; seen {
			return rec.failLine(fmt.Errorf("year %d appears again (first on line %d)", year, first))
		}
		firstLine[year] = rec.line
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// ParseInterest reads an interest.csv: valid_from,annual_rate, the rate a fraction ≥ 0 (R6).
func ParseInterest(name string, r io.Reader) ([]InterestRow, error) {
	var rows []InterestRow
	firstLine := make(map[clock.LocalDate]int)
	err := readTable(name, r, interestColumns, interestColumns, func(rec *record) error {
		validFrom, err := rec.date("valid_from")
		if err != nil {
			return err
		}
		rate, err := money.Parse(rec.get("annual_rate"))
		if err != nil {
			return rec.fail("annual_rate", err)
		}
		row := InterestRow{ValidFrom: validFrom, AnnualRate: rate}
		if err := checkInterestRow(row); err != nil {
			return rec.fail("annual_rate", err)
		}
		if first, seen := firstLine[validFrom]; seen {
			return rec.failLine(fmt.Errorf("valid_from %s appears again (first on line %d)", validFrom, first))
		}
		firstLine[validFrom] = rec.line
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// versionDate is a key at one valid_from: what must be unique in a file.
type versionDate struct {
	key  versionKey
	date clock.LocalDate
}

// tariffError is a problem in a tariff file, located as precisely as known:
// "prices.csv:4:6 (unit_price): …", where 6 is the column's position in the header.
type tariffError struct {
	file   string
	line   int    // 0: the whole file
	column int    // 1-based position in the header; 0: the whole line
	header string // the column's name
	err    error
}

func (e *tariffError) Error() string {
	switch {
	case e.column > 0:
		return fmt.Sprintf("%s:%d:%d (%s): %v", e.file, e.line, e.column, e.header, e.err)
	case e.line > 0:
		return fmt.Sprintf("%s:%d: %v", e.file, e.line, e.err)
	}
	return fmt.Sprintf("%s: %v", e.file, e.err)
}

// Unwrap makes every file error an ErrInvalidTariff.
func (e *tariffError) Unwrap() error { return ErrInvalidTariff }

// record is one data row of a table, with what is needed to name its fields in messages.
type record struct {
	file    string
	line    int
	columns map[string]int // header name → index in fields
	fields  []string
}

// get returns the trimmed field of a column, "" when the file has no such column.
func (r *record) get(column string) string {
	i, ok := r.columns[column]
	if !ok {
		return ""
	}
	return r.fields[i]
}

func (r *record) fail(column string, err error) error {
	return &tariffError{file: r.file, line: r.line, column: r.columns[column] + 1, header: column, err: err}
}

func (r *record) failLine(err error) error {
	return &tariffError{file: r.file, line: r.line, err: err}
}

func (r *record) date(column string) (clock.LocalDate, error) {
	text := r.get(column)
	if text == "" {
		return clock.LocalDate{}, r.fail(column, errors.New("a date YYYY-MM-DD is required"))
	}
	date, err := clock.ParseDate(text)
	if err == nil {
		err = checkDate(date)
	}
	if err != nil {
		return clock.LocalDate{}, r.fail(column, err)
	}
	return date, nil
}

// keyFields are the columns prices and surcharges share.
type keyFields struct {
	versionKey
	country     string
	unitPrice   decimal.Decimal
	validFrom   clock.LocalDate
	description string
}

// keyColumns reads and checks the columns prices.csv and surcharges.csv share; anyChannel
// allows an empty channel (surcharges).
func (r *record) keyColumns(anyChannel bool) (keyFields, error) {
	var k keyFields
	k.channel = r.get("channel")
	if err := checkChannel(k.channel, anyChannel); err != nil {
		return k, r.fail("channel", err)
	}
	k.product = r.get("product")
	if err := checkProduct(k.product); err != nil {
		return k, r.fail("product", err)
	}
	k.direction = r.get("direction")
	if err := checkDirection(k.direction); err != nil {
		return k, r.fail("direction", err)
	}
	k.prefix = r.get("prefix")
	if rest, plus := strings.CutPrefix(k.prefix, "+"); plus {
		if rest == "" {
			return k, r.fail("prefix", errors.New(`"+" is not a prefix: leave it empty for any destination`))
		}
		k.prefix = rest
	}
	if err := checkPrefix(k.prefix); err != nil {
		return k, r.fail("prefix", err)
	}
	k.country = r.get("country")
	if err := checkCountry(k.country); err != nil {
		return k, r.fail("country", err)
	}
	price, err := money.Parse(r.get("unit_price"))
	if err != nil {
		return k, r.fail("unit_price", err)
	}
	if err := checkUnitPrice(price); err != nil {
		return k, r.fail("unit_price", err)
	}
	k.unitPrice = price
	if k.validFrom, err = r.date("valid_from"); err != nil {
		return k, err
	}
	k.description = r.get("description")
	if err := checkDescription(k.description); err != nil {
		return k, r.fail("description", err)
	}
	return k, nil
}

func parseSeconds(text string, least int64) (int64, error) {
	seconds, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number of seconds", text)
	}
	if seconds < least || seconds > MaxBillingSeconds {
		return 0, fmt.Errorf("%d is not between %d and %d seconds", seconds, least, MaxBillingSeconds)
	}
	return seconds, nil
}

// readTable reads a CSV file with a header row and calls each for every data row. Blank lines
// are skipped; fields are trimmed of surrounding spaces.
func readTable(name string, r io.Reader, known, required []string, each func(*record) error) error {
	limited := &io.LimitedReader{R: r, N: MaxFileBytes + 1}
	reader := csv.NewReader(limited)
	reader.FieldsPerRecord = -1 // counted here, to name the line in our own words
	reader.ReuseRecord = true
	var (
		columns map[string]int
		width   int
		rows    int
		rowErrs []error
	)
	for {
		fields, err := reader.Read()
		if limited.N <= 0 {
			return &tariffError{file: name, err: fmt.Errorf("larger than %d bytes", MaxFileBytes)}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			var syntax *csv.ParseError
			if errors.As(err, &syntax) {
				return &tariffError{file: name, line: syntax.Line, err: fmt.Errorf("%v (byte %d of the line)", syntax.Err, syntax.Column)}
			}
			return fmt.Errorf("%s: %w", name, err) // an I/O error, not the file's content
		}
		line, _ := reader.FieldPos(0)
		for i := range fields {
			fields[i] = strings.TrimSpace(fields[i])
		}
		if len(fields) == 1 && fields[0] == "" {
			continue // a line of spaces only
		}
		if columns == nil {
			if columns, err = readHeader(fields, known, required); err != nil {
				return &tariffError{file: name, line: line, err: err}
			}
			width = len(fields)
			continue
		}
		rows++
		if rows > MaxRows {
			return &tariffError{file: name, line: line, err: fmt.Errorf("more than %d rows", MaxRows)}
		}
		if len(fields) != width {
			err = &tariffError{file: name, line: line, err: fmt.Errorf("%d fields, the header has %d", len(fields), width)}
		} else {
			err = each(&record{file: name, line: line, columns: columns, fields: fields})
		}
		if err != nil {
			// Every wrong line is named, up to MaxRowErrors, so that a list is mended in one go.
			if len(rowErrs) == MaxRowErrors {
				rowErrs = append(rowErrs, &tariffError{file: name, line: line, err: errors.New("more wrong lines follow; mend these first")})
				break
			}
			rowErrs = append(rowErrs, err)
		}
	}
	if columns == nil {
		return &tariffError{file: name, err: fmt.Errorf("empty: a header row (%s) is expected", strings.Join(known, ","))}
	}
	return errors.Join(rowErrs...)
}

// MaxRowErrors is how many wrong lines of one file an error names.
const MaxRowErrors = 20

func readHeader(fields, known, required []string) (map[string]int, error) {
	columns := make(map[string]int, len(fields))
	var unknown []string
	for i, field := range fields {
		name := strings.ToLower(strings.TrimPrefix(field, "\ufeff")) // a spreadsheet's byte-order mark
		if _, twice := columns[name]; twice {
			return nil, fmt.Errorf("column %q appears twice", name)
		}
		columns[name] = i
		isKnown := false
		for _, k := range known {
			isKnown = isKnown || k == name
		}
		if !isKnown {
			unknown = append(unknown, strconv.Quote(name))
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown column(s) %s; the columns are %s", strings.Join(unknown, ", "), strings.Join(known, ","))
	}
	var missing []string
	for _, name := range required {
		if _, ok := columns[name]; !ok {
			missing = append(missing, strconv.Quote(name))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing column(s) %s", strings.Join(missing, ", "))
	}
	return columns, nil
}
