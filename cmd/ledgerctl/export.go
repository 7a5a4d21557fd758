package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ExportWorkers is how many UBL documents are fetched at once: enough to overlap the round
// trips, few enough to leave the server to its other clients.
const ExportWorkers = 4

func invoicesExport(fs *flag.FlagSet) action {
	period := fs.String("period", "", "the period to export (YYYY-MM); required")
	format := fs.String("format", "", "csv (one file for bookkeeping), ubl (one UBL 2.1 file per invoice) or pdf (one printable file per invoice); required")
	out := fs.String("out", "", "the directory to write into, made if missing; required")
	return func(ctx context.Context, inv *invocation) error {
		switch {
		case *period == "":
			return usagef("--period is required")
		case *format != "csv" && documentExt[*format] == "":
			return usagef("--format must be csv, ubl or pdf")
		case *out == "":
			return usagef("--out is required")
		}
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return err
		}
		started := time.Now()
		summary := exportSummary{period: *period, format: *format, dir: *out}
		var err error
		if *format == "csv" {
			err = exportCSV(ctx, inv.client, *period, *out, &summary)
		} else {
			err = exportDocuments(ctx, inv.client, *period, *out, documentExt[*format], newProgressFor(inv.stderr), &summary)
		}
		if err != nil {
			return err
		}
		summary.elapsed = time.Since(started)
		if inv.json {
			return writeJSON(inv.stdout, summary.jsonOf())
		}
		return summary.write(inv.stdout)
	}
}

// exportSummary is what an export wrote.
type exportSummary struct {
	period, format, dir string
	totals              invoiceTotals
	file                string // the CSV file; empty for UBL
	files               int
	bytes               int64
	elapsed             time.Duration
}

func (s *exportSummary) write(w io.Writer) error {
	where := s.dir
	if s.file != "" {
		where = s.file
	}
	fmt.Fprintf(w, "exported %s as %s\n", s.period, strings.ToUpper(s.format))
	fields := []field{{"invoices", fmt.Sprint(s.totals.count)}}
	if s.totals.creditNotes > 0 {
		fields = append(fields, field{"credit notes", fmt.Sprintf("%d (their amounts netted below)", s.totals.creditNotes)})
	}
	return writeFields(w, append(fields,
		field{"net", s.totals.net.String()},
		field{"VAT", s.totals.vat.String()},
		field{"total", s.totals.total.String()},
		field{"files", fmt.Sprintf("%d written to %s (%s)", s.files, where, formatBytes(s.bytes))},
		field{"elapsed", formatSeconds(s.elapsed)},
	)...)
}

func (s *exportSummary) jsonOf() map[string]any {
	byCurrency := func(a *amounts) map[string]string {
		out := map[string]string{}
		for _, c := range a.order {
			out[c] = a.sum[c].StringFixed(2)
		}
		return out
	}
	return map[string]any{"period": s.period, "format": s.format, "dir": s.dir, "invoices": s.totals.count, "credit_notes": s.totals.creditNotes,
		"net": byCurrency(&s.totals.net), "vat": byCurrency(&s.totals.vat), "total": byCurrency(&s.totals.total),
		"files": s.files, "bytes": s.bytes, "elapsed_seconds": s.elapsed.Seconds()}
}

// exportCSV writes GET /v1/exports/invoices?format=csv to DIR/invoices-PERIOD.csv and sums it.
func exportCSV(ctx context.Context, c *client, period, dir string, s *exportSummary) error {
	name := "invoices-" + period + ".csv"
	if err := checkFileName(name); err != nil {
		return err
	}
	err := c.download(ctx, c.export, "/v1/exports/invoices", url.Values{"period": {period}, "format": {"csv"}},
		func(r io.Reader) (err error) {
			s.bytes, err = writeAtomic(dir, name, r)
			return err
		})
	if err != nil {
		return err
	}
	s.file, s.files = filepath.Join(dir, name), 1
	return sumCSV(s.file, &s.totals)
}

// sumCSV counts the rows of the bookkeeping CSV and sums its amounts, by the names in its
// header; a column it lacks is left out of the summary.
func sumCSV(path string, totals *invoiceTotals) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: empty, not even a header", path)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	column := map[string]int{}
	for i, name := range header {
		column[strings.ToLower(strings.TrimSpace(name))] = i
	}
	currency, hasCurrency := column["currency"]
	typ, hasType := column["type"]
	for row := 2; ; row++ {
		record, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if hasType && record[typ] == "credit_note" {
			totals.creditNotes++ // its amounts are negative: the sums are the period's, credits netted
		} else {
			totals.count++
		}
		cur := ""
		if hasCurrency {
			cur = record[currency]
		}
		for name, sum := range map[string]*amounts{"net": &totals.net, "vat": &totals.vat, "total": &totals.total,
			"outstanding": &totals.outstanding} {
			if i, ok := column[name]; ok {
				if err := sum.add(cur, record[i]); err != nil {
					return fmt.Errorf("%s: row %d: %s: %w", path, row, name, err)
				}
			}
		}
	}
}

// documentExt is the file extension of each document format.
var documentExt = map[string]string{"ubl": "xml", "pdf": "pdf"}

// exportDocuments lists the period's invoices and writes each one's document (UBL: {id}.xml,
// PDF: {id}.pdf) to DIR, ExportWorkers at a time, with progress on stderr.
func exportDocuments(ctx context.Context, c *client, period, dir, ext string, progress *progress, s *exportSummary) error {
	var ids []string
	err := c.listInvoices(ctx, url.Values{"period": {period}}, func(i invoice, _ json.RawMessage) error {
		if err := checkFileName(i.ID + "." + ext); err != nil {
			return err
		}
		ids = append(ids, i.ID)
		return s.totals.add(i)
	})
	if err != nil {
		return err
	}
	progress.start(len(ids))
	s.files, s.bytes, err = fetchDocuments(ctx, c, dir, ids, ext, progress)
	progress.finish()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: %d of %d files written to %s; run the export again to complete it", s.files, len(ids), dir)
		}
		return fmt.Errorf("export stopped after %d of %d files written to %s: %w", s.files, len(ids), dir, err)
	}
	return nil
}

// fetched is one UBL document written, or why not.
type fetched struct {
	bytes int64
	err   error
}

// fetchDocuments writes the documents (UBL or PDF, by ext) of ids into dir through a pool of ExportWorkers. The first
// failure stops the rest; the files already written are whole (writeAtomic) and stay.
func fetchDocuments(ctx context.Context, c *client, dir string, ids []string, ext string, progress *progress) (files int, bytes int64, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan string)
	results := make(chan fetched)
	var workers sync.WaitGroup
	for range min(ExportWorkers, len(ids)) {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for id := range jobs {
				var f fetched
				f.err = c.download(ctx, c.http, "/v1/invoices/"+url.PathEscape(id)+"."+ext, nil, func(r io.Reader) (err error) {
					f.bytes, err = writeAtomic(dir, id+"."+ext, r)
					return err
				})
				results <- f // the collector reads until the workers are done: never blocks for ever
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, id := range ids {
			select {
			case jobs <- id:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		workers.Wait() // after the feeder closed jobs
		close(results)
	}()
	for f := range results {
		if f.err != nil {
			if err == nil {
				err = f.err
				cancel()
			}
			continue
		}
		files++
		bytes += f.bytes
		progress.add(f.bytes)
	}
	return files, bytes, err
}

// checkFileName refuses a name that would write outside the export directory or hide there.
func checkFileName(name string) error {
	if name == "" || filepath.Base(name) != name || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return fmt.Errorf("%q cannot be a file name in the export directory", name)
	}
	return nil
}

// writeAtomic writes r to dir/name through a temporary file in dir renamed into place, so that
// dir/name holds a whole document or nothing, however the export ends. A document that is
// empty is not written.
func writeAtomic(dir, name string, r io.Reader) (int64, error) {
	tmp, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(tmp, r)
	if err == nil && n == 0 {
		err = fmt.Errorf("%s: the server answered an empty document", name)
	}
	if err == nil {
		err = tmp.Chmod(0o644) // CreateTemp makes 0600; the export is an ordinary file
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return 0, err
	}
	return n, nil
}
