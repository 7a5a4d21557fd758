package ledger

import (
	"errors"
	"fmt"
)

// Code classifies an error for the edge that reports it (HTTP status, NATS reply).
type Code string

// The error codes; api maps each to one HTTP status in one place.
const (
	CodeInvalid      Code = "invalid"      // malformed input
	CodeNotFound     Code = "not_found"    // unknown thing
	CodeConflict     Code = "conflict"     // conflicts with the current state
	CodeRefused      Code = "refused"      // refused by a rule of the terms; Clause says which
	CodeUnauthorized Code = "unauthorized" // no or unknown credentials
	CodeForbidden    Code = "forbidden"    // credentials without the role
	CodeInternal     Code = "internal"     // our fault
)

// Error is the one error type of the ledger: a code, a message for people and, for refusals,
// the clause of the terms that decided.
type Error struct {
	Code    Code
	Message string
	Clause  string // e.g. "T&C 3.13"; empty unless a rule decided
}

func (e *Error) Error() string {
	if e.Clause != "" {
		return fmt.Sprintf("%s (%s)", e.Message, e.Clause)
	}
	return e.Message
}

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Refusef returns a refusal by the rule of clause.
func Refusef(clause, format string, args ...any) *Error {
	return &Error{Code: CodeRefused, Clause: clause, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, CodeInternal when it carries none.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
