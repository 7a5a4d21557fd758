package events

import (
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"ledger/clock"
	"ledger/ledger"
)

// DefaultUtilizationFloor: per-account credit series are exported for postpaid accounts whose
// exposure is at least this fraction of their limit, and for suspended ones. With 100,000
// accounts, exporting all would be 300,000 series a scrape; the floor keeps to those finance
// and the alerts (80 %, 90 %, 100 %) care about.
const DefaultUtilizationFloor = 0.5

// CreditCollector exports the per-account gauges of CONTRACT 6 from the credit book at scrape
// time (no gauge objects per account to create or forget), and account counts by type and status.
type CreditCollector struct {
	Book  *ledger.CreditBook
	Floor float64
	Clock clock.Clock // for what expires within 30 days and closures due (default: the wall clock)

	utilization, exposure, limit, suspended, accounts     *prometheus.Desc
	usable, expiring, closure, usableTotal, expiringTotal *prometheus.Desc
}

// PrepaidAttention is how far ahead a prepaid account needs attention: credit expiring, or a
// closure due, within this window gives it per-account series.
const PrepaidAttention = 30 * 24 * time.Hour

// NewCreditCollector returns a collector over book.
func NewCreditCollector(book *ledger.CreditBook, floor float64) *CreditCollector {
	return &CreditCollector{Book: book, Floor: floor,
		utilization:   prometheus.NewDesc("ledger_credit_utilization_ratio", "Exposure divided by credit limit, per postpaid account (exported at or above the utilization floor, or when suspended).", []string{"account"}, nil),
		exposure:      prometheus.NewDesc("ledger_exposure_eur", "Exposure in EUR (R4: unbilled usage + outstanding invoices + interest and costs unpaid), per postpaid account as above.", []string{"account"}, nil),
		limit:         prometheus.NewDesc("ledger_credit_limit_eur", "Credit limit in EUR, per postpaid account as above.", []string{"account"}, nil),
		suspended:     prometheus.NewDesc("ledger_account_suspended", "1 for each suspended account (T&C 3.6).", []string{"account"}, nil),
		accounts:      prometheus.NewDesc("ledger_accounts", "Accounts by type and status.", []string{"type", "status"}, nil),
		usable:        prometheus.NewDesc("ledger_prepaid_usable_eur", "Usable prepaid balance in EUR (R9), per prepaid account that needs attention: credit expiring or a closure due within 30 days, or a shortfall.", []string{"account"}, nil),
		expiring:      prometheus.NewDesc("ledger_prepaid_expiring_30d_eur", "Prepaid credit in EUR that expires within 30 days (T&C 3.13), per prepaid account as above.", []string{"account"}, nil),
		closure:       prometheus.NewDesc("ledger_prepaid_closure_due_timestamp_seconds", "When a prepaid account will be closed unless topped up (T&C 3.15), Unix seconds, for closures due within 30 days.", []string{"account"}, nil),
		usableTotal:   prometheus.NewDesc("ledger_prepaid_usable_total_eur", "Usable prepaid balance of all accounts together, in EUR.", nil, nil),
		expiringTotal: prometheus.NewDesc("ledger_prepaid_expiring_30d_total_eur", "Prepaid credit of all accounts together that expires within 30 days, in EUR.", nil, nil),
	}
}

// Describe sends the descriptors.
func (c *CreditCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.utilization, c.exposure, c.limit, c.suspended, c.accounts, c.usable, c.expiring, c.closure, c.usableTotal, c.expiringTotal} {
		ch <- d
	}
}

// Collect reads the book.
func (c *CreditCollector) Collect(ch chan<- prometheus.Metric) {
	type key struct{ typ, status string }
	counts := map[key]int{}
	var now time.Time
	if c.Clock != nil {
		now = c.Clock.Now()
	} else {
		now = time.Now()
	}
	horizon := now.Add(PrepaidAttention)
	var usableTotal, expiringTotal float64
	c.Book.Each(func(cr ledger.Credit) {
		counts[key{string(cr.Type), string(cr.Status)}]++
		if cr.Status == ledger.Suspended {
			ch <- prometheus.MustNewConstMetric(c.suspended, prometheus.GaugeValue, 1, cr.Account)
		}
		if cr.Type == ledger.Prepaid && cr.Status != ledger.Closed {
			var expiring float64
			if cr.Prepaid != nil {
				expiring = float64(cr.Prepaid.ExpiringBefore(horizon)) / 1e6
			}
			usable := float64(cr.Usable) / 1e6
			usableTotal += usable
			expiringTotal += expiring
			closing := !cr.ClosureDue.IsZero() && cr.ClosureDue.Before(horizon)
			if expiring > 0 || closing || cr.Shortfall > 0 {
				ch <- prometheus.MustNewConstMetric(c.usable, prometheus.GaugeValue, usable, cr.Account)
				ch <- prometheus.MustNewConstMetric(c.expiring, prometheus.GaugeValue, expiring, cr.Account)
			}
			if closing {
				ch <- prometheus.MustNewConstMetric(c.closure, prometheus.GaugeValue, float64(cr.ClosureDue.Unix()), cr.Account)
			}
			return
		}
		if cr.Type != ledger.Postpaid || cr.Status == ledger.Closed {
			return
		}
		exposure, limit := float64(cr.Exposure)/1e6, float64(cr.Limit)/1e6
		// A cancelled limit (0) leaves no credit: any exposure is at or over it (+Inf, so that
		// the ">= 1" alerts hold), none at all is 0.
		ratio := math.Inf(1)
		switch {
		case limit > 0:
			ratio = exposure / limit
		case exposure <= 0:
			ratio = 0
		}
		if ratio < c.Floor && cr.Status != ledger.Suspended {
			return
		}
		ch <- prometheus.MustNewConstMetric(c.utilization, prometheus.GaugeValue, ratio, cr.Account)
		ch <- prometheus.MustNewConstMetric(c.exposure, prometheus.GaugeValue, exposure, cr.Account)
		ch <- prometheus.MustNewConstMetric(c.limit, prometheus.GaugeValue, limit, cr.Account)
	})
	ch <- prometheus.MustNewConstMetric(c.usableTotal, prometheus.GaugeValue, usableTotal)
	ch <- prometheus.MustNewConstMetric(c.expiringTotal, prometheus.GaugeValue, expiringTotal)
	for _, t := range []ledger.AccountType{ledger.Postpaid, ledger.Prepaid} {
		for _, s := range []ledger.Status{ledger.Active, ledger.Suspended, ledger.Closed} {
			ch <- prometheus.MustNewConstMetric(c.accounts, prometheus.GaugeValue, float64(counts[key{string(t), string(s)}]), string(t), string(s))
		}
	}
}
