package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Limits of the client.
const (
	// RequestTimeout bounds one API request, its answer read to the end.
	RequestTimeout = 60 * time.Second
	// ExportTimeout bounds the CSV export, which the server builds for a whole period at once.
	ExportTimeout = 10 * time.Minute
	// PageLimit is the page size asked for when following a list: the API's maximum.
	PageLimit = 1000
	// MaxPages bounds how many pages one list follows (ten million items at PageLimit).
	MaxPages = 10_000
	// MaxResponseBytes bounds a JSON answer (a page of 1000 invoices with their lines is a few MB).
	MaxResponseBytes = 256 << 20
	// MaxErrorBytes is how much of a non-JSON error answer is quoted.
	MaxErrorBytes = 512
)

// apiError is an error answered by the API: {"error":{"code","message"}} (CONTRACT 3).
type apiError struct {
	Status  int
	Code    string // invalid, unauthorized, forbidden, not_found, conflict, refused, internal
	Message string // names the rule that refused, e.g. "… (T&C 3.11)"
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// client talks to ledgerd's HTTP API.
type client struct {
	server    string // scheme and host, no trailing slash
	token     string
	http      *http.Client // RequestTimeout
	export    *http.Client // ExportTimeout
	pageLimit int
}

func newClient(server, token string) (*client, error) {
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef("--server %q: want a URL like %s", server, DefaultServer)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = ExportWorkers
	return &client{
		server:    strings.TrimSuffix(server, "/"),
		token:     token,
		http:      &http.Client{Timeout: RequestTimeout, Transport: transport},
		export:    &http.Client{Timeout: ExportTimeout, Transport: transport},
		pageLimit: PageLimit,
	}, nil
}

// document is a request body sent as it is rather than as JSON: an agreed price list in the
// prices.csv form (CONTRACT 3.1).
type document struct {
	contentType string
	data        []byte
}

// send makes a request and returns the answer when its status is 2xx; any other status becomes
// an *apiError. body is nil (none), a document, or a value sent as JSON. The caller closes the
// body.
func (c *client) send(ctx context.Context, hc *http.Client, method, path string, query url.Values, body any) (*http.Response, error) {
	target := c.server + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case document:
		rd, contentType = bytes.NewReader(b.data), b.contentType
	default:
		data, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd, contentType = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, hc, method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, errorOf(resp)
	}
	return resp, nil
}

// transportError says what went wrong reaching ledgerd in words an operator can act on.
func (c *client) transportError(ctx context.Context, hc *http.Client, method, path string, err error) error {
	var netErr net.Error
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%s %s: interrupted", method, path)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("cannot reach ledgerd at %s: connection refused; ledgerd may not be running (start it with `make run`, or point --server or LEDGER_SERVER at it)", c.server)
	case errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("%s %s: ledgerd at %s did not answer within %s", method, path, c.server, hc.Timeout)
	}
	return fmt.Errorf("cannot reach ledgerd at %s: %w", c.server, err)
}

// errorOf reads an error answer.
func errorOf(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes))
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &body); err == nil && body.Error.Code != "" {
		return &apiError{Status: resp.StatusCode, Code: body.Error.Code, Message: body.Error.Message}
	}
	text := strings.TrimSpace(string(raw))
	if len(text) > MaxErrorBytes {
		text = text[:MaxErrorBytes] + "…"
	}
	if text == "" {
		text = "no error body"
	}
	return &apiError{Status: resp.StatusCode, Code: fmt.Sprintf("HTTP %d", resp.StatusCode), Message: text}
}

// call sends a request (body nil for none, a document, or sent as JSON) and returns the answer's raw JSON and status.
// When out is not nil the answer is decoded into it.
func (c *client) call(ctx context.Context, method, path string, query url.Values, body, out any) (json.RawMessage, int, error) {
	resp, err := c.send(ctx, c.http, method, path, query, body)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, 0, c.transportError(ctx, c.http, method, path, err)
	}
	if len(raw) > MaxResponseBytes {
		return nil, 0, fmt.Errorf("%s %s: answer larger than %d bytes", method, path, MaxResponseBytes)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, 0, fmt.Errorf("%s %s: answer is not the JSON expected: %w", method, path, err)
		}
	}
	return raw, resp.StatusCode, nil
}

// list follows a list (CONTRACT 3: {"items":[…],"next":"…"}, next passed back as ?after=)
// through all its pages, handing each item to each in order.
func (c *client) list(ctx context.Context, path string, query url.Values, each func(item json.RawMessage) error) error {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("limit", fmt.Sprint(c.pageLimit))
	seen := map[string]bool{}
	for pages := 0; ; pages++ {
		if pages == MaxPages {
			return fmt.Errorf("GET %s: more than %d pages of %d", path, MaxPages, c.pageLimit)
		}
		var page struct {
			Items []json.RawMessage `json:"items"`
			Next  string            `json:"next"`
		}
		if _, _, err := c.call(ctx, http.MethodGet, path, q, nil, &page); err != nil {
			return err
		}
		for _, item := range page.Items {
			if err := each(item); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		// A cursor seen before would loop for ever.
		if seen[page.Next] {
			return fmt.Errorf("GET %s: the server answered the cursor %q twice", path, page.Next)
		}
		seen[page.Next] = true
		q.Set("after", page.Next)
	}
}

// download streams a document (UBL, CSV) into write.
func (c *client) download(ctx context.Context, hc *http.Client, path string, query url.Values, write func(io.Reader) error) error {
	resp, err := c.send(ctx, hc, http.MethodGet, path, query, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := write(resp.Body); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("GET %s: interrupted", path)
		}
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}

// answer sends a request. With --json it prints the API's answer as it came and says so
// (printed true); otherwise it decodes the answer into out for the command to print.
func (inv *invocation) answer(ctx context.Context, method, path string, query url.Values, body, out any) (status int, printed bool, err error) {
	raw, status, err := inv.client.call(ctx, method, path, query, body, out)
	if err != nil || !inv.json {
		return status, false, err
	}
	_, err = inv.stdout.Write(raw)
	return status, true, err
}

// listRows walks every page of a list. With --json it prints every item as one page, as the
// other lists do ({"items":[…],"next":""}), and says so (printed true); otherwise it calls row
// with each item decoded, and says how many there were.
func listRows[T any](ctx context.Context, inv *invocation, path string, query url.Values, row func(T) error) (n int, printed bool, err error) {
	var items []json.RawMessage
	err = inv.client.list(ctx, path, query, func(raw json.RawMessage) error {
		if inv.json {
			items = append(items, raw)
			return nil
		}
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("GET %s: an item is not what it should be: %w", path, err)
		}
		n++
		return row(v)
	})
	if err != nil || !inv.json {
		return n, false, err
	}
	return len(items), true, writeJSON(inv.stdout, map[string]any{"items": nonNil(items), "next": ""})
}

// query is the URL query of the non-empty values among name, value pairs.
func query(pairs ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			q.Set(pairs[i], pairs[i+1])
		}
	}
	return q
}
