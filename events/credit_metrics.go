package events

import (
	"math"

	"github.com/prometheus/client_golang/prometheus"

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

	utilization, exposure, limit, suspended, accounts *prometheus.Desc
}

// NewCreditCollector returns a collector over book.
func NewCreditCollector(book *ledger.CreditBook, floor float64) *CreditCollector {
	return &CreditCollector{Book: book, Floor: floor,
		utilization: prometheus.NewDesc("ledger_credit_utilization_ratio", "Exposure divided by credit limit, per postpaid account (exported at or above the utilization floor, or when suspended).", []string{"account"}, nil),
		exposure:    prometheus.NewDesc("ledger_exposure_eur", "Exposure in EUR (R4: unbilled usage + outstanding invoices + interest and costs unpaid), per postpaid account as above.", []string{"account"}, nil),
		limit:       prometheus.NewDesc("ledger_credit_limit_eur", "Credit limit in EUR, per postpaid account as above.", []string{"account"}, nil),
		suspended:   prometheus.NewDesc("ledger_account_suspended", "1 for each suspended account (T&C 3.6).", []string{"account"}, nil),
		accounts:    prometheus.NewDesc("ledger_accounts", "Accounts by type and status.", []string{"type", "status"}, nil),
	}
}

// Describe sends the descriptors.
func (c *CreditCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.utilization, c.exposure, c.limit, c.suspended, c.accounts} {
		ch <- d
	}
}

// Collect reads the book.
func (c *CreditCollector) Collect(ch chan<- prometheus.Metric) {
	type key struct{ typ, status string }
	counts := map[key]int{}
	c.Book.Each(func(cr ledger.Credit) {
		counts[key{string(cr.Type), string(cr.Status)}]++
		if cr.Status == ledger.Suspended {
			ch <- prometheus.MustNewConstMetric(c.suspended, prometheus.GaugeValue, 1, cr.Account)
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
	for _, t := range []ledger.AccountType{ledger.Postpaid, ledger.Prepaid} {
		for _, s := range []ledger.Status{ledger.Active, ledger.Suspended, ledger.Closed} {
			ch <- prometheus.MustNewConstMetric(c.accounts, prometheus.GaugeValue, float64(counts[key{string(t), string(s)}]), string(t), string(s))
		}
	}
}
