// Package pricing rates usage events against a versioned tariff set (RULES.md R1, R2; CONTRACT
// section 4).
//
// A tariff set is four CSV files: prices.csv and surcharges.csv, which Rate uses, and cpi.csv
// and interest.csv, which are loaded and validated here so that one --tariffs directory is
// checked in one place, and handed out as they are to the packages that apply them (R3, R6).
//
// Price lists are never edited in place (T&C 3.2): every row carries a valid_from date, an
// Amsterdam calendar date, and is in force from 00:00 Europe/Amsterdam of that date. For each
// key (channel, product, direction, prefix, and for surcharges applies_to) the newest row whose
// valid_from has started at the event's occurred_at applies; a key with no row in force yet
// does not match at all, so a shorter prefix may price the event instead.
//
// Prefixes live in one digit trie per channel, so a lookup costs one step per destination digit
// however many prefixes the set holds. A Tariffs value is built once and never changed: it is
// safe for concurrent use, and a reload builds a new one.
//
// The package is pure: it imports no database, NATS or HTTP package and never reads the wall
// clock; the event's own occurred_at is the only time it uses.
package pricing
