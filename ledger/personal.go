package ledger

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fastjson"
)

// Personal data (R14, DPA 4.5, 6): a destination or caller number is personal data of an end
// user. The ledger keeps what billing needs — the matched prefix and the country, on the
// charge — and a keyed pseudonym of the destination for disputes and data-subject requests;
// never the number in clear.

// MinKeptDigits is the fewest leading digits of a number a parked event keeps, so that a replay
// rates it by the same prefix (when the price lists' longest prefix is shorter).
const MinKeptDigits = 6

// Pseudonyms makes the keyed pseudonyms of numbers: HMAC-SHA256 under the ledger's key
// (--pseudonym-key), the first 16 bytes in hex. The same number always has the same pseudonym
// under one key, and without the key a pseudonym says nothing of its number.
type Pseudonyms struct {
	// macs are HMAC states under the key, reused: one is made per event otherwise, on the
	// charging path.
	macs sync.Pool
	// Kept is how many leading digits of a number a parked event keeps.
	Kept int
}

// NewPseudonyms returns the pseudonyms under key, keeping kept digits of parked numbers (at
// least MinKeptDigits).
func NewPseudonyms(key []byte, kept int) *Pseudonyms {
	key = append([]byte(nil), key...)
	p := &Pseudonyms{Kept: max(kept, MinKeptDigits)}
	p.macs.New = func() any { return hmac.New(sha256.New, key) }
	return p
}

// Of returns the pseudonym of an E.164 number ("" for "").
func (p *Pseudonyms) Of(number string) string {
	if number == "" {
		return ""
	}
	m := p.macs.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(number))
	var sum [sha256.Size]byte
	out := hex.EncodeToString(m.Sum(sum[:0])[:16])
	p.macs.Put(m)
	return out
}

// truncateNumber keeps the + and the first n digits of an E.164 number.
func truncateNumber(number string, n int) string {
	if len(number) <= 1+n {
		return number
	}
	return number[:1+n]
}

// digitRuns are runs of 7 or more digits, maybe after a +: what may be a number in a text
// field. quotedNumbers are those of a message: after a + or a quote (the details quote the
// values they refuse, %q), so that amounts and quantities in it stay as they are.
var (
	digitRuns     = regexp.MustCompile(`\+?[0-9]{7,}`)
	quotedNumbers = regexp.MustCompile(`[+"][0-9]{7,}`)
)

// scrubText replaces every run of 7 or more digits by its first few and "…".
func (p *Pseudonyms) scrubText(s string) string { return p.scrub(digitRuns, s) }

func (p *Pseudonyms) scrub(re *regexp.Regexp, s string) string {
	return re.ReplaceAllStringFunc(s, func(run string) string {
		lead := ""
		if run[0] == '+' || run[0] == '"' {
			lead, run = run[:1], run[1:]
		}
		kept := min(p.Kept, len(run)-4) // at least 4 digits go
		return lead + run[:kept] + "…"
	})
}

// keptFields are the event's fields a parked body keeps as they came, digits and all: they
// name the event, the customer and the traffic, never an end user, and replay needs them
// (the numbers are the destination and the caller id, cut by Scrub).
var keptFields = map[string]bool{"id": true, "account": true, "channel": true, "product": true, "direction": true,
	"destination": true, "caller_id": true}

// Scrub takes the numbers out of a prepared delivery before anything of it is kept (R14): its
// pseudonym is set from the destination (or kept from the parked row it is replayed from), and
// a delivery to park has its body and detail rewritten — the destination and the caller id
// keep their leading digits (Kept: enough for a replay to rate them alike; a caller id keeps its
// validity, SST 6.3), and any other run of digits in a body that could not be read, or in the
// detail, loses all but its first few.
func (p *Pseudonyms) Scrub(d *Prepared) {
	if d.Pseudonym == "" {
		d.Pseudonym = p.Of(d.Event.Destination)
	}
	if d.Reason == "" {
		return // charged: only the prefix, the country and the pseudonym are kept
	}
	for _, number := range []string{d.Event.Destination, d.Event.CallerID} {
		if len(number) > 1 {
			d.Detail = strings.ReplaceAll(d.Detail, number, truncateNumber(number, p.Kept)+"…")
		}
	}
	d.Detail = p.scrub(quotedNumbers, d.Detail)
	parser := parsers.Get() // the pool DecodeUsage uses
	defer parsers.Put(parser)
	v, err := parser.ParseBytes(d.Data)
	if err != nil || v.Type() != fastjson.TypeObject {
		d.Data = []byte(p.scrubText(string(d.Data)))
		return
	}
	obj := v.GetObject()
	var a fastjson.Arena
	if dest := obj.Get("destination"); dest != nil && dest.Type() == fastjson.TypeString {
		s := string(dest.GetStringBytes())
		if ValidE164(s) {
			obj.Set("destination", a.NewString(truncateNumber(s, p.Kept)))
		} else {
			obj.Set("destination", a.NewString(p.scrubText(s)))
		}
	}
	if caller := obj.Get("caller_id"); caller != nil && caller.Type() == fastjson.TypeString {
		s := string(caller.GetStringBytes())
		if ValidE164(s) {
			obj.Set("caller_id", a.NewString(truncateNumber(s, p.Kept))) // still valid: no surcharge
		} else if s != "" {
			obj.Set("caller_id", a.NewString("invalid")) // still invalid: the surcharge stays (SST 6.3)
		}
	}
	var scrubbed []string
	obj.Visit(func(key []byte, v *fastjson.Value) {
		if k := string(key); !keptFields[k] && v.Type() == fastjson.TypeString {
			s := string(v.GetStringBytes())
			if k == "occurred_at" {
				if !d.Event.OccurredAt.IsZero() { // decoded: a time, checked already
					return
				}
				if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
					return // a time (its nanoseconds are digits, not a number): replay needs it
				}
			}
			if digitRuns.MatchString(s) {
				scrubbed = append(scrubbed, k)
			}
		}
	})
	for _, k := range scrubbed {
		obj.Set(k, a.NewString(p.scrubText(string(obj.Get(k).GetStringBytes()))))
	}
	d.Data = obj.MarshalTo(nil)
}
