package pricing

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// FuzzRateNoPanic rates arbitrary events: Rate must never panic, must answer a rating or an
// ErrNoPrice / ErrInvalidUsage, and every rating must hold its invariants.
func FuzzRateNoPanic(f *testing.F) {
	f.Add("sms", "", "outbound", "+31612345678", int64(2), "", int64(1773129600))
	f.Add("voice", "", "outbound", "+31612345678", int64(61), "+0", int64(1773129600))
	f.Add("professional_services", "overtime", "inbound", "", int64(90), "", int64(1773129600))
	f.Add("ott", "whatsapp", "", "+", int64(-1), "", int64(0))
	tariffs := testTariffs(f)
	f.Fuzz(func(t *testing.T, channel, product, direction, destination string, quantity int64, callerID string, unix int64) {
		u := Usage{Channel: channel, Product: product, Direction: direction, Destination: destination,
			Quantity: quantity, CallerID: callerID, At: time.Unix(unix, 0).UTC()}
		r, err := tariffs.Rate(u)
		if err != nil {
			if !errors.Is(err, ErrNoPrice) && !errors.Is(err, ErrInvalidUsage) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if err := r.check(); err != nil {
			t.Fatal(err)
		}
		if channel != ChannelVoice && r.BilledQuantity != quantity {
			t.Fatalf("billed %d, quantity %d", r.BilledQuantity, quantity)
		}
		if channel == ChannelVoice && quantity > 0 && r.BilledQuantity < quantity {
			t.Fatalf("billed %d below %d seconds", r.BilledQuantity, quantity)
		}
		if r.Total.LessThan(decimal.Zero) {
			t.Fatalf("negative total %s", r.Total)
		}
	})
}

// FuzzParsePricesNoPanic reads arbitrary files: the parser must never panic, and what it
// accepts New must accept too.
func FuzzParsePricesNoPanic(f *testing.F) {
	f.Add(testPrices)
	f.Add(priceHeader + "voice,,outbound,+316,NL,0.12,60,60,2026-01-01,\"Voice, NL\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		rows, err := ParsePrices("prices.csv", strings.NewReader(text))
		if err != nil {
			return
		}
		if _, err := New(rows, nil, nil, nil); err != nil {
			t.Fatalf("parsed rows refused by New: %v", err)
		}
	})
}
