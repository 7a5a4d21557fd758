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
	var e *ledger.Error
	var body errorBody
	if errors.As(err, &e) {
		body.Error.Code, body.Error.Message, body.Error.Clause = string(e.Code), e.Error(), e.Clause
	} else {
		if log != nil {
			log.Error("internal error", "err", err)
		}
		body.Error.Code, body.Error.Message = string(ledger.CodeInternal), "internal error; see the service log"
	}
	writeJSON(w, statusOf(ledger.Code(body.Error.Code)), body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
