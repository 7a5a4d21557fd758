package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/valyala/fastjson"

	"ledger/pricing"
)

// Limits on a usage event (CONTRACT 2).
const (
	MaxEventIDLength     = 128         // characters (CONTRACT 2)
	MaxEventBytes        = 16 << 10    // a usage event is a few hundred bytes; larger is not one
	MaxQuantity          = 100_000_000 // parts, seconds, messages or minutes in one event: more is a bug, not traffic
	MaxProductLength     = 64
	MaxE164Digits        = 15
	OutboundDirection    = "outbound"
	InboundDirection     = "inbound"
	ProfessionalServices = "professional_services"
)

// Channels are the traffic channels of CONTRACT 2.
var Channels = []string{"sms", "mms", "voice", "ott", "push", ProfessionalServices}

var channelSet = map[string]bool{"sms": true, "mms": true, "voice": true, "ott": true, "push": true, ProfessionalServices: true}

// ValidChannel reports whether c is a known channel.
func ValidChannel(c string) bool { return channelSet[c] }

// UsageEvent is one unit of traffic published by a platform service (CONTRACT 2).
type UsageEvent struct {
	ID          string
	Account     string
	Channel     string
	Product     string
	Direction   string // outbound or inbound, the default applied
	Destination string
	Quantity    int64
	CallerID    string
	OccurredAt  time.Time
}

// parsers are reused across events: decoding is on the hot path of ingestion.
var parsers fastjson.ParserPool

// DecodeUsage parses and validates one event (CONTRACT 2). The error is a human-readable reason
// the event is malformed; the id is returned whenever the body carries a string id, so that a
// malformed event can still be recognised when it comes again.
func DecodeUsage(raw []byte) (UsageEvent, string, error) {
	if len(raw) > MaxEventBytes {
		return UsageEvent{}, "", fmt.Errorf("event is %d bytes, more than the limit of %d", len(raw), MaxEventBytes)
	}
	p := parsers.Get()
	defer parsers.Put(p)
	v, err := p.ParseBytes(raw)
	if err != nil {
		return UsageEvent{}, "", fmt.Errorf("not a JSON object: %v", err)
	}
	obj, err := v.Object()
	if err != nil {
		return UsageEvent{}, "", fmt.Errorf("not a JSON object")
	}
	id, idErr := optionalString(obj, "id")
	e, err := decodeFields(obj, id, idErr)
	if len(id) > MaxEventIDLength*utf8.UTFMax {
		id = id[:MaxEventIDLength*utf8.UTFMax]
	}
	return e, id, err
}

// optionalString returns a string field; a missing or null field is "" without error.
func optionalString(obj *fastjson.Object, name string) (string, error) {
	v := obj.Get(name)
	if v == nil || v.Type() == fastjson.TypeNull {
		return "", nil
	}
	b, err := v.StringBytes()
	if err != nil {
		return "", fmt.Errorf("%s must be a string", name)
	}
	return string(b), nil
}

// knownString returns s, reusing a constant for the usual values (no allocation per event).
func knownString(b []byte, known []string) string {
	for _, k := range known {
		if string(b) == k {
			return k
		}
	}
	return string(b)
}

var directions = []string{OutboundDirection, InboundDirection}

func decodeFields(obj *fastjson.Object, id string, idErr error) (UsageEvent, error) {
	var e UsageEvent
	if idErr != nil {
		return e, idErr
	}
	if id == "" {
		return e, fmt.Errorf("id is required")
	}
	if !utf8.ValidString(id) {
		return e, fmt.Errorf("id is not valid UTF-8")
	}
	if utf8.RuneCountInString(id) > MaxEventIDLength {
		return e, fmt.Errorf("id is longer than %d characters", MaxEventIDLength)
	}
	e.ID = id
	var err error
	if e.Account, err = optionalString(obj, "account"); err != nil {
		return e, err
	}
	if !ValidAccountID(e.Account) {
		return e, fmt.Errorf("account is required and must match [a-z0-9][a-z0-9_-]{0,62}")
	}
	if v := obj.Get("channel"); v != nil && v.Type() == fastjson.TypeString {
		e.Channel = knownString(v.GetStringBytes(), Channels)
	}
	if !channelSet[e.Channel] {
		return e, fmt.Errorf("channel must be one of sms, mms, voice, ott, push, professional_services")
	}
	if e.Product, err = optionalString(obj, "product"); err != nil {
		return e, err
	}
	if !validProduct(e.Product) {
		return e, fmt.Errorf("product %q must be lower-case letters, digits, _ or -, at most %d characters", e.Product, MaxProductLength)
	}
	if e.Channel == "ott" && e.Product == "" {
		return e, fmt.Errorf("product is required for ott (whatsapp, rcs, apple, …)")
	}
	switch v := obj.Get("direction"); {
	case v == nil || v.Type() == fastjson.TypeNull:
		e.Direction = OutboundDirection
	case v.Type() == fastjson.TypeString:
		e.Direction = knownString(v.GetStringBytes(), directions)
		if e.Direction == "" {
			e.Direction = OutboundDirection
		}
	default:
		return e, fmt.Errorf("direction must be a string")
	}
	if e.Direction != OutboundDirection && e.Direction != InboundDirection {
		return e, fmt.Errorf("direction %q must be outbound or inbound", e.Direction)
	}
	if e.Destination, err = optionalString(obj, "destination"); err != nil {
		return e, err
	}
	if e.Channel != ProfessionalServices || e.Destination != "" {
		if !ValidE164(e.Destination) {
			return e, fmt.Errorf("destination %q is not an E.164 number (+ and up to %d digits)", e.Destination, MaxE164Digits)
		}
	}
	q := obj.Get("quantity")
	if q == nil || q.Type() == fastjson.TypeNull {
		return e, fmt.Errorf("quantity is required")
	}
	if q.Type() != fastjson.TypeNumber {
		return e, fmt.Errorf("quantity must be a whole number from 0 to %d", MaxQuantity)
	}
	n, err := q.Int64()
	if err != nil || n < 0 || n > MaxQuantity {
		return e, fmt.Errorf("quantity %s must be a whole number from 0 to %d", q.String(), MaxQuantity)
	}
	e.Quantity = n
	if e.CallerID, err = optionalString(obj, "caller_id"); err != nil {
		return e, err
	}
	if len(e.CallerID) > 64 {
		return e, fmt.Errorf("caller_id is longer than 64 characters")
	}
	// An invalid caller ID is charged with its surcharge (SST 6.3), not refused.
	at := obj.Get("occurred_at")
	if at == nil || at.Type() == fastjson.TypeNull {
		return e, fmt.Errorf("occurred_at is required")
	}
	if at.Type() != fastjson.TypeString {
		return e, fmt.Errorf("occurred_at must be a string")
	}
	b := at.GetStringBytes()
	if len(b) == 0 {
		return e, fmt.Errorf("occurred_at is required")
	}
	// Parsed in place, not copied: the parser's bytes are not kept beyond this call.
	t, err := time.Parse(time.RFC3339Nano, unsafe.String(unsafe.SliceData(b), len(b)))
	if err != nil {
		return e, fmt.Errorf("occurred_at %q is not an RFC 3339 time", string(b))
	}
	e.OccurredAt = t.UTC()
	if !InWindow(e.OccurredAt) {
		return e, fmt.Errorf("occurred_at %q is outside the instants the ledger keeps (%s)", string(b), InstantWindow)
	}
	return e, nil
}

func validProduct(p string) bool {
	if len(p) > MaxProductLength {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ValidE164 is pricing's E.164 check: a destination and a caller ID follow one rule.
var ValidE164 = pricing.ValidE164

// ContentHash identifies an event's content: the same id with another hash is a different event
// claiming the same id (duplicate_conflict). It covers every field that affects the charge, in
// canonical form (default direction applied, instant in UTC), so that a re-serialised copy of the
// same event is recognised as the same. It is FNV-1a over length-prefixed fields, 63 bits: not a
// defence against a forger (publishers are trusted), but two different events of the same id
// colliding is a 1 in 2^63 chance.
func (e UsageEvent) ContentHash() uint64 {
	h := uint64(fnvOffset)
	for _, s := range [...]string{e.ID, e.Account, e.Channel, e.Product, e.Direction, e.Destination, e.CallerID} {
		h = fnvUint64(h, uint64(len(s)))
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * fnvPrime
		}
	}
	h = fnvUint64(h, uint64(e.Quantity))
	// Seconds and nanoseconds apart: UnixNano overflows outside 1678–2262.
	h = fnvUint64(h, uint64(e.OccurredAt.Unix()))
	h = fnvUint64(h, uint64(e.OccurredAt.Nanosecond()))
	return h >> 1 // 63 bits: fits a signed SQL integer
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvUint64(h, v uint64) uint64 {
	for i := 0; i < 8; i++ {
		h = (h ^ (v & 0xff)) * fnvPrime
		v >>= 8
	}
	return h
}

// RawHash identifies the bytes of an event that could not be decoded.
func RawHash(raw []byte) uint64 {
	sum := sha256.Sum256(raw)
	return binary.LittleEndian.Uint64(sum[:]) >> 1
}
