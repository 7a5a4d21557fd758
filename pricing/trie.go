package pricing

import (
	"fmt"
	"sort"
	"time"

	"ledger/clock"
)

// versionKey is what identifies a tariff row across its versions (CONTRACT section 4).
// appliesTo is "" for prices.
type versionKey struct {
	channel, product, direction, prefix, appliesTo string
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
type versions[R any] struct {
	key    versionKey
	rows   []R
	lines  []int             // file line of rows[i], for messages
	dates  []clock.LocalDate // valid_from of rows[i]
	starts []time.Time       // dates[i].Start(): the instant rows[i] comes into force; set by seal
}

// seal orders the versions by valid_from and refuses two with the same date: a price list is
// versioned, never edited in place (T&C 3.2), so one date has one price.
func (v *versions[R]) seal() error {
	order := make([]int, len(v.rows))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return v.dates[order[a]].Before(v.dates[order[b]]) })
	rows := make([]R, len(order))
	lines := make([]int, len(order))
	dates := make([]clock.LocalDate, len(order))
	v.starts = make([]time.Time, len(order))
	for i, j := range order {
		rows[i], lines[i], dates[i] = v.rows[j], v.lines[j], v.dates[j]
		v.starts[i] = dates[i].Start()
		if i > 0 && dates[i] == dates[i-1] {
			return fmt.Errorf("lines %d and %d: same key (%s) and valid_from %s",
				lines[i-1], lines[i], describeKey(v.key), dates[i])
		}
	}
	v.rows, v.lines, v.dates = rows, lines, dates
	return nil
}

// at returns the version in force at instant t: the newest whose start is not after t (R1).
func (v *versions[R]) at(t time.Time) (R, bool) {
	i := sort.Search(len(v.starts), func(i int) bool { return v.starts[i].After(t) })
	if i == 0 {
		var none R
		return none, false
	}
	return v.rows[i-1], true
}

// trie is a digit trie of prefixes for one channel. Nodes live in one slice and refer to their
// children by index, which keeps tens of thousands of prefixes compact and cheap for the
// garbage collector. A lookup visits one node per destination digit.
type trie[R any] struct {
	nodes []trieNode[R] // nodes[0] is the root: the empty prefix
}

type trieNode[R any] struct {
	children [10]int32      // index into nodes per next digit; 0 = none (the root is no child)
	keys     []*versions[R] // the keys whose prefix ends here
}

func newTrie[R any]() *trie[R] {
	return &trie[R]{nodes: make([]trieNode[R], 1)}
}

// add files a key under its prefix, which checkPrefix has made digits only.
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
	t.nodes[node].keys = append(t.nodes[node].keys, v)
}

// match is the best row found so far for one lookup, with its rank.
type match[R any] struct {
	row   R
	key   *versions[R]
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

// best walks digits from the root and improves m with every key in force at `at` that matches
// product, direction and appliesTo. channelRank is rankChannelExact for the event's own
// channel's trie, 0 for the any-channel trie of surcharges.
func (t *trie[R]) best(m *match[R], digits, product, direction, appliesTo string, channelRank int, at time.Time) {
	node := int32(0)
	for depth := 0; ; depth++ {
		for _, v := range t.nodes[node].keys {
			if v.key.appliesTo != appliesTo {
				continue
			}
			rank := depth*rankPerDigit + channelRank
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
			row, ok := v.at(at)
			if !ok {
				continue
			}
			m.row, m.key, m.rank, m.found = row, v, rank, true
		}
		if depth == len(digits) {
			return
		}
		child := t.nodes[node].children[digits[depth]-'0']
		if child == 0 {
			return
		}
		node = child
	}
}
