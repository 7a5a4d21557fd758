package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Limits on a usage event (CONTRACT 2).
const (
	MaxEventIDLength     = 128
	MaxEventBytes        = 16 << 10 // a usage event is a few hundred bytes; larger is not one
	MaxQuantity          = 1_000_000_000
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

// usageWire is the JSON form; pointers tell a missing field from a zero one.
type usageWire struct {
	ID          *string          `json:"id"`
	Account     *string          `json:"account"`
	Channel     *string          `json:"channel"`
	Product     string           `json:"product"`
	Direction   string           `json:"direction"`
	Destination string           `json:"destination"`
	Quantity    *json.RawMessage `json:"quantity"`
	CallerID    string           `json:"caller_id"`
	OccurredAt  *string          `json:"occurred_at"`
}

// DecodeUsage parses and validates one event. The error is a human-readable reason the event is
// malformed; the id is returned whenever the body carries one, so that a malformed event can
// still be recognised when it comes again.
func DecodeUsage(raw []byte) (UsageEvent, string, error) {
	if len(raw) > MaxEventBytes {
		return UsageEvent{}, "", fmt.Errorf("event is %d bytes, more than the limit of %d", len(raw), MaxEventBytes)
	}
	var w usageWire
	if err := json.Unmarshal(raw, &w); err != nil {
		return UsageEvent{}, "", fmt.Errorf("not a JSON object: %v", err)
	}
	id := ""
	if w.ID != nil {
		id = *w.ID
	}
	e, err := w.validate()
	return e, id, err
}

func (w usageWire) validate() (UsageEvent, error) {
	var e UsageEvent
	if w.ID == nil || *w.ID == "" {
		return e, fmt.Errorf("id is required")
	}
	e.ID = *w.ID
	if len(e.ID) > MaxEventIDLength || !utf8.ValidString(e.ID) {
		return e, fmt.Errorf("id is longer than %d characters", MaxEventIDLength)
	}
	if w.Account == nil || !ValidAccountID(*w.Account) {
		return e, fmt.Errorf("account is required and must match [a-z0-9][a-z0-9_-]{0,62}")
	}
	e.Account = *w.Account
	if w.Channel == nil || !channelSet[*w.Channel] {
		return e, fmt.Errorf("channel must be one of sms, mms, voice, ott, push, professional_services")
	}
	e.Channel = *w.Channel
	if !validProduct(w.Product) {
		return e, fmt.Errorf("product %q must be lower-case letters, digits, _ or -, at most %d characters", w.Product, MaxProductLength)
	}
	e.Product = w.Product
	if e.Channel == "ott" && e.Product == "" {
		return e, fmt.Errorf("product is required for ott (whatsapp, rcs, apple, …)")
	}
	switch w.Direction {
	case "", OutboundDirection:
		e.Direction = OutboundDirection
	case InboundDirection:
		e.Direction = InboundDirection
	default:
		return e, fmt.Errorf("direction %q must be outbound or inbound", w.Direction)
	}
	if e.Channel != ProfessionalServices {
		if !ValidE164(w.Destination) {
			return e, fmt.Errorf("destination %q is not an E.164 number (+ and up to %d digits)", w.Destination, MaxE164Digits)
		}
	} else if w.Destination != "" && !ValidE164(w.Destination) {
		return e, fmt.Errorf("destination %q is not an E.164 number", w.Destination)
	}
	e.Destination = w.Destination
	if w.Quantity == nil {
		return e, fmt.Errorf("quantity is required")
	}
	q, err := strconv.ParseInt(string(*w.Quantity), 10, 64)
	if err != nil || q < 0 || q > MaxQuantity {
		return e, fmt.Errorf("quantity %s must be a whole number from 0 to %d", *w.Quantity, MaxQuantity)
	}
	e.Quantity = q
	if len(w.CallerID) > MaxE164Digits+1 {
		return e, fmt.Errorf("caller_id is longer than an E.164 number")
	}
	e.CallerID = w.CallerID // an invalid caller ID is charged with its surcharge (SST 6.3), not refused
	if w.OccurredAt == nil {
		return e, fmt.Errorf("occurred_at is required")
	}
	t, err := time.Parse(time.RFC3339Nano, *w.OccurredAt)
	if err != nil {
		return e, fmt.Errorf("occurred_at %q is not an RFC 3339 time", *w.OccurredAt)
	}
	e.OccurredAt = t.UTC()
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

// ValidE164 reports whether s is "+" followed by 1 to 15 digits, the first not 0.
func ValidE164(s string) bool {
	if len(s) < 2 || len(s) > MaxE164Digits+1 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ContentHash identifies an event's content: the same id with another hash is a different event
// claiming the same id (duplicate_conflict). It covers every field that affects the charge, in
// canonical form (default direction applied, instant in UTC), so that a re-serialised copy of the
// same event is recognised as the same.
func (e UsageEvent) ContentHash() uint64 {
	h := sha256.New()
	var buf [8]byte
	for _, s := range []string{e.ID, e.Account, e.Channel, e.Product, e.Direction, e.Destination, e.CallerID} {
		binary.LittleEndian.PutUint64(buf[:], uint64(len(s)))
		h.Write(buf[:])
		h.Write([]byte(s))
	}
	binary.LittleEndian.PutUint64(buf[:], uint64(e.Quantity))
	h.Write(buf[:])
	binary.LittleEndian.PutUint64(buf[:], uint64(e.OccurredAt.UnixNano()))
	h.Write(buf[:])
	return binary.LittleEndian.Uint64(h.Sum(nil)) >> 1 // 63 bits: fits a signed SQL integer
}

// RawHash identifies the bytes of an event that could not be decoded.
func RawHash(raw []byte) uint64 {
	sum := sha256.Sum256(raw)
	return binary.LittleEndian.Uint64(sum[:]) >> 1
}
