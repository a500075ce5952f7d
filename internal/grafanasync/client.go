package grafanasync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// DefaultTimeout bounds each request when the caller's client has none.
const DefaultTimeout = 30 * time.Second

// MaxResponseBytes bounds every response body sync reads; a larger answer
// is an error, not a truncated read.
const MaxResponseBytes = 16 << 20

// APIError is an answer of Grafana with a status the request did not
// expect. It names the request by method and path (never the base URL's
// credentials or the token).
type APIError struct {
	Method, Path string
	StatusCode   int
	// Status is the "status" field of Grafana's 412 answers:
	// version-mismatch, name-exists or plugin-dashboard.
	Status string
	// Message is Grafana's "message" field, or the start of the body.
	Message string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.Path, e.StatusCode)
	if e.Status != "" {
		s += " (" + e.Status + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if h := hint(e.StatusCode); h != "" {
		s += "; " + h
	}
	return s
}

// hint says what a status code of Grafana's API means for sync.
func hint(code int) string {
	switch {
	case code == http.StatusUnauthorized:
		return "Grafana did not accept the token: give a valid service account token (--token)"
	case code == http.StatusForbidden:
		return "the token may not do this: its service account needs the organization's Admin role"
	case code == http.StatusUnprocessableEntity:
		return "Grafana could not process the request"
	case code >= 500:
		return "Grafana failed: retry later or read Grafana's log"
	}
	return ""
}

type client struct {
	base  *url.URL
	token string
	hc    *http.Client
}

func newClient(rawURL, token string, hc *http.Client) (*client, error) {
	u, err := url.Parse(strings.TrimRight(rawURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("grafana URL must be http(s)://host[:port][/path], got %q", redactURL(rawURL))
	}
	if token == "" {
		return nil, errors.New("no Grafana token given")
	}
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	return &client{base: u, token: token, hc: hc}, nil
}

func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

// do sends in (JSON, when not nil) to path with query and decodes a 2xx
// answer into out (when not nil). It returns the status code; a status
// outside ok is an *APIError.
func (c *client) do(ctx context.Context, method, path string, query url.Values, in, out any, ok ...int) (int, error) {
	u := *c.base
	u.Path = c.base.Path + path
	u.RawQuery = query.Encode()
	name := path
	if u.RawQuery != "" {
		name += "?" + u.RawQuery
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("%s %s: %w", method, name, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, name, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its URL may hold the base URL's user name
		}
		return 0, fmt.Errorf("%s %s: %s", method, name, c.scrub(err.Error()))
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: reading the answer: %s", method, name, c.scrub(err.Error()))
	}
	if len(b) > MaxResponseBytes {
		return resp.StatusCode, fmt.Errorf("%s %s: answer larger than %d bytes", method, name, MaxResponseBytes)
	}
	if !slices.Contains(ok, resp.StatusCode) {
		return resp.StatusCode, c.apiError(method, name, resp.StatusCode, b)
	}
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: answer is not the JSON Grafana documents: %w", method, name, err)
		}
	}
	return resp.StatusCode, nil
}

func (c *client) apiError(method, name string, code int, b []byte) *APIError {
	e := &APIError{Method: method, Path: name, StatusCode: code}
	var body struct{ Message, Status string }
	if json.Unmarshal(b, &body) == nil && (body.Message != "" || body.Status != "") {
		e.Message, e.Status = body.Message, body.Status
	} else {
		e.Message = strings.TrimSpace(string(b))
	}
	const limit = 300
	e.Message = c.scrub(e.Message)
	if len(e.Message) > limit {
		e.Message = e.Message[:limit] + "…"
	}
	e.Status = c.scrub(e.Status)
	return e
}

// scrub removes the token from text Grafana or the transport produced, in
// case a proxy echoes the request.
func (c *client) scrub(s string) string {
	return strings.ReplaceAll(s, c.token, "[token]")
}
