package pricing

import (
	"fmt"
	"math"
	"sort"
	"time"

	"ledger/clock"

	"github.com/shopspring/decimal"
)

// versionKey is what identifies a tariff row across its versions (CONTRACT section 4).
// appliesTo is "" for prices. The fields a lookup compares come first (see versions).
type versionKey struct {
	appliesTo, product, direction, channel, prefix string
}

func (k versionKey) less(o versionKey) bool {
	if k.channel != o.channel {
		return k.channel < o.channel
	}
	if k.product != o.product {
		return k.product < o.product
	}
	if k.direction != o.direction {
		return k.direction < o.direction
	}
	if k.prefix != o.prefix {
		return k.prefix < o.prefix
	}
	return k.appliesTo < o.appliesTo
}

// versions holds every row of one key, oldest first. R is PriceRow or SurchargeRow.
//
// A lookup reads vs, next and the first three fields of key of every key it tries: they come
// first, in the first 80 bytes.
type versions[R any] struct {
	vs   []version[R]
	next *versions[R] // the next key filed at the same trie node, in the order they were added
	key  versionKey
}

// version is one row of a key with what a lookup reads besides it, next to it in memory.
type version[R any] struct {
	// start is the row's valid_from Start() in Unix seconds: the instant it comes into force.
	// A start is midnight, a whole second, so it is after an instant t exactly when
	// start > t.Unix(). Set by seal.
	start int64
	// price is the row's unit price in whole nano-euros, or notNanos (see nanoPrice). Set by
	// New after seal.
	price nanoPrice
	// steps are the row's indexations (R3), oldest first, as far as cpi.csv reaches; gap is the
	// start of the first one whose CPI change is missing. Prices only: a surcharge has none and
	// gap math.MaxInt64. Set by New.
	steps []indexStep
	gap   int64
	// last is the newest of steps, the one most events need, kept here beside the row: a step
	// read through the slice costs a cache miss per event (measured: +50 ns a rating). Its from
	// is math.MaxInt64 when there is none.
	lastFrom  int64
	lastPrice nanoPrice
	lastUnit  decimal.Decimal
	row       R
}

// setSteps records a version's indexations and the newest of them inline.
func (ver *version[R]) setSteps(steps []indexStep, gap int64) {
	ver.steps, ver.gap, ver.lastFrom = steps, gap, math.MaxInt64
	if n := len(steps); n > 0 {
		ver.lastFrom, ver.lastPrice, ver.lastUnit = steps[n-1].from, steps[n-1].price, steps[n-1].unit
	}
}

// priceAt is the unit price of a price version for an event at Unix second sec: the row's own,
// or, unless the account opted out (indexed false, T&C 3.4), the one of the last indexation on
// or before sec. An event at or after a missing CPI change cannot be priced (ErrMissingCPI).
func priceAt(ver *version[PriceRow], sec int64, indexed bool) (nanoPrice, decimal.Decimal, error) {
	switch {
	case !indexed || sec < ver.gap && len(ver.steps) == 0:
		return ver.price, ver.row.UnitPrice, nil
	case sec >= ver.gap:
		return 0, decimal.Zero, missingCPI(ver.gap)
	case sec >= ver.lastFrom:
		return ver.lastPrice, ver.lastUnit, nil
	}
	k := len(ver.steps) - 2
	for k >= 0 && ver.steps[k].from > sec {
		k--
	}
	if k < 0 {
		return ver.price, ver.row.UnitPrice, nil
	}
	return ver.steps[k].price, ver.steps[k].unit, nil
}

// seal orders the versions by valid_from and refuses two with the same date: a price list is
// versioned, never edited in place (T&C 3.2), so one date has one price. date and line are a
// row's valid_from and file line.
func (v *versions[R]) seal(date func(*R) clock.LocalDate, line func(*R) int) error {
	vs := append([]version[R](nil), v.vs...)
	sort.SliceStable(vs, func(a, b int) bool { return date(&vs[a].row).Before(date(&vs[b].row)) })
	for i := range vs {
		vs[i].start = date(&vs[i].row).Start().Unix()
		if i > 0 && date(&vs[i].row) == date(&vs[i-1].row) {
			return fmt.Errorf("lines %d and %d: same key (%s) and valid_from %s",
				line(&vs[i-1].row), line(&vs[i].row), describeKey(v.key), date(&vs[i].row))
		}
	}
	v.vs = vs
	return nil
}

// at returns the version in force at instant t: the newest whose start is not after t (R1).
func (v *versions[R]) at(t time.Time) (R, bool) {
	i := v.index(t.Unix())
	if i < 0 {
		var none R
		return none, false
	}
	return v.vs[i].row, true
}

// index is the index of the version in force at Unix second sec (of an instant t: a version
// starts on a whole second, so only t's seconds matter), or -1 if none is. A key has a few
// versions, oldest first, and the newest is the one most events need: a scan from the end.
func (v *versions[R]) index(sec int64) int {
	i := len(v.vs) - 1
	for i >= 0 && v.vs[i].start > sec {
		i--
	}
	return i
}

// trie is a digit trie of prefixes for one channel. Nodes live in one slice and refer to their
// children by index, which keeps tens of thousands of prefixes compact and cheap for the
// garbage collector. A lookup visits one node per destination digit.
type trie[R any] struct {
	nodes []trieNode[R] // nodes[0] is the root: the empty prefix
}

// trieNode is 64 bytes, a cache line: a lookup reads one line per node.
type trieNode[R any] struct {
	children [10]int32    // index into nodes per next digit; 0 = none (the root is no child)
	keys     *versions[R] // the first key whose prefix ends here; the others follow by next
	lastKey  *versions[R] // the last of them, for add
	_        [8]byte
}

func newTrie[R any]() *trie[R] {
	return &trie[R]{nodes: make([]trieNode[R], 1)}
}

// add files a key under its prefix, which checkPrefix has made digits only, after the keys
// already filed there.
func (t *trie[R]) add(v *versions[R]) {
	node := int32(0)
	for i := 0; i < len(v.key.prefix); i++ {
		digit := v.key.prefix[i] - '0'
		child := t.nodes[node].children[digit]
		if child == 0 {
			t.nodes = append(t.nodes, trieNode[R]{})
			child = int32(len(t.nodes) - 1)
			t.nodes[node].children[digit] = child
		}
		node = child
	}
	if n := &t.nodes[node]; n.keys == nil {
		n.keys, n.lastKey = v, v
	} else {
		n.lastKey.next, n.lastKey = v, v
	}
}

// match is the best row found so far for one lookup, with its rank.
type match[R any] struct {
	row   *R // &key.vs[idx].row: read only
	key   *versions[R]
	idx   int
	rank  int
	found bool
}

// Rank of a match: a longer prefix always wins; at equal length an exact channel beats ""
// (surcharges only), then an exact product beats "", then an exact direction beats "".
const (
	rankPerDigit       = 8
	rankChannelExact   = 4
	rankProductExact   = 2
	rankDirectionExact = 1
)

// best improves m with the best key of this trie in force at `at` that matches product,
// direction and appliesTo: the longest prefix of digits, then the most specific. channelRank
// is rankChannelExact for the event's own channel's trie, 0 for the any-channel trie of
// surcharges.
//
// A longer prefix always outranks a shorter one (the bonuses of one depth add up to less than
// rankPerDigit), so the path is walked down first and its keys are tried deepest first: the
// first depth with a key in force decides, and the shallower keys need not be looked at. Within
// a depth the keys are tried in order and only a strictly higher rank replaces m, as a walk from
// the root would do.
func (t *trie[R]) best(m *match[R], digits, product, direction, appliesTo string, channelRank int, at time.Time) {
	var path [MaxPrefixDigits + 1]int32 // path[d] is the node of digits[:d]; prefixes have at most 15 digits
	depth := 0
	for depth < len(digits) && depth < MaxPrefixDigits {
		child := t.nodes[path[depth]].children[digits[depth]-'0']
		if child == 0 {
			break
		}
		depth++
		path[depth] = child
	}
	sec := at.Unix()
	for ; depth >= 0; depth-- {
		base := depth*rankPerDigit + channelRank
		if m.found && m.rank >= base+rankProductExact+rankDirectionExact {
			return // nothing at this depth or above can beat m
		}
		improved := false
		for v := t.nodes[path[depth]].keys; v != nil; v = v.next {
			if v.key.appliesTo != appliesTo {
				continue
			}
			rank := base
			switch v.key.product {
			case product:
				if product != "" {
					rank += rankProductExact
				}
			case "":
			default:
				continue
			}
			switch v.key.direction {
			case direction:
				if direction != "" {
					rank += rankDirectionExact
				}
			case "":
			default:
				continue
			}
			if m.found && rank <= m.rank {
				continue
			}
			// R1: a key with no version in force yet does not match, so a shorter or less
			// specific key may price the event instead.
			i := v.index(sec)
			if i < 0 {
				continue
			}
			m.row, m.key, m.idx, m.rank, m.found = &v.vs[i].row, v, i, rank, true
			improved = true
		}
		if improved {
			return
		}
	}
}
