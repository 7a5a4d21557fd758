package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"ledger/ledger"
)

// statusOf maps an error code to its HTTP status: the one place this is decided.
func statusOf(code ledger.Code) int {
	switch code {
	case ledger.CodeInvalid:
		return http.StatusBadRequest
	case ledger.CodeUnauthorized:
		return http.StatusUnauthorized
	case ledger.CodeForbidden:
		return http.StatusForbidden
	case ledger.CodeNotFound:
		return http.StatusNotFound
	case ledger.CodeConflict:
		return http.StatusConflict
	case ledger.CodeRefused:
		return http.StatusUnprocessableEntity
	default:
		return http.StatusInternalServerError
	}
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Clause  string `json:"clause,omitempty"`
	} `json:"error"`
}

// writeError answers {"error":{"code","message"}} with the status of the error's code. Internal
// errors are logged and answered without their details.
func writeError(w http.ResponseWriter, log *slog.Logger, err error) {
	var body errorBody
	var status int
	status, body.Error.Code, body.Error.Message, body.Error.Clause = publicError(log, err)
	writeJSON(w, status, body)
}

// publicError is what an error may tell whoever asked: the status, code, message and clause of
// a ledger.Error; an internal error is logged and told without its details. The API and the
// console answer with it alike.
func publicError(log *slog.Logger, err error) (status int, code, message, clause string) {
	var e *ledger.Error
	if errors.As(err, &e) {
		return statusOf(e.Code), string(e.Code), e.Error(), e.Clause
	}
	if log != nil {
		log.Error("internal error", "err", err)
	}
	return http.StatusInternalServerError, string(ledger.CodeInternal), "internal error; see the service log", ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
