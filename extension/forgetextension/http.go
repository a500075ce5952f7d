package forgetextension // import "github.com/pulse-otel/pulse/extension/forgetextension"

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/pulse-otel/pulse/internal/schema"
)

const (
	basePath = "/v1/forget"
	// maxUserIDLength is the longest userId accepted, in bytes: the
	// receiver's limit too (internal/schema).
	maxUserIDLength = schema.MaxUserIDLength
	// retryAfterSeconds is what 503 answers put in Retry-After.
	retryAfterSeconds = "5"
	statusEffective   = "effective"
	// wantBody ends the errors about the body's shape.
	wantBody = `the body must be {"userId":"..."}`
)

// Answers. Error answers never repeat the user id, nor any part of the
// body or the path, which may hold one.
type (
	forgetAnswer struct {
		RequestID  string `json:"requestId"`
		Status     string `json:"status"`
		ReceivedAt string `json:"receivedAt"`
	}
	countAnswer struct {
		Count int `json:"count"`
	}
	recordAnswer struct {
		RequestID  string `json:"requestId"`
		ReceivedAt string `json:"receivedAt"`
		Subject    string `json:"subject"`
	}
	errorAnswer struct {
		Error string `json:"error"`
	}
)

// Allow headers and fixed texts of the 405 and 404 answers: JSON, as
// every answer of the API (ServeMux's own are plain text).
const (
	allowBase     = "GET, POST"
	allowRecord   = "GET"
	notAllowed    = "method not allowed on " + basePath + "; use POST to forget a user, GET to count the requests"
	notAllowedRec = "method not allowed on " + basePath + "/{requestId}; use GET"
	unknownPath   = "unknown path; the endpoints are POST " + basePath + ", GET " + basePath + " and GET " + basePath + "/{requestId}"
)

func (e *forgetExtension) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+basePath, e.servePost)
	mux.HandleFunc("GET "+basePath, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, countAnswer{Count: e.count()})
	})
	mux.HandleFunc("GET "+basePath+"/{requestId}", func(w http.ResponseWriter, req *http.Request) {
		e.serveRecord(w, req.PathValue("requestId"))
	})
	mux.HandleFunc("GET "+basePath+"/{$}", func(w http.ResponseWriter, _ *http.Request) {
		e.serveRecord(w, "")
	})
	// GET patterns match HEAD too: HEAD is refused as the other methods are.
	for _, p := range []string{"HEAD " + basePath, basePath} {
		mux.HandleFunc(p, methodNotAllowed(allowBase, notAllowed))
	}
	for _, p := range []string{"HEAD " + basePath + "/{requestId}", basePath + "/{requestId}", "HEAD " + basePath + "/{$}", basePath + "/{$}"} {
		mux.HandleFunc(p, methodNotAllowed(allowRecord, notAllowedRec))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, unknownPath)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p := req.URL.Path
		if !strings.HasPrefix(p, "/") || cleanPath(p) != p {
			// ServeMux would redirect an unclean path and answer "*" in
			// plain text; a path segment of its own is a requestId.
			if id, ok := strings.CutPrefix(p, basePath+"/"); ok && !strings.Contains(id, "/") {
				if req.Method != http.MethodGet {
					methodNotAllowed(allowRecord, notAllowedRec)(w, req)
					return
				}
				e.serveRecord(w, id)
				return
			}
			writeError(w, http.StatusNotFound, unknownPath)
			return
		}
		if req.URL.RawPath != "" {
			// Route on the decoded path, so an escaped "/" separates
			// segments as it does in every other path the API reads.
			req = req.Clone(req.Context())
			req.URL.RawPath = ""
		}
		mux.ServeHTTP(w, req)
	})
}

// cleanPath is path.Clean keeping a trailing slash, as ServeMux cleans.
func cleanPath(p string) string {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

func methodNotAllowed(allow, msg string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, msg)
	}
}

func (e *forgetExtension) serveRecord(w http.ResponseWriter, rawID string) {
	id, ok := parseRequestID(rawID)
	if !ok {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("requestId: must be %d hexadecimal digits", 2*requestIDSize))
		return
	}
	r, ok := e.lookup(id)
	if !ok {
		writeError(w, http.StatusNotFound, "no forget request has this requestId")
		return
	}
	writeJSON(w, http.StatusOK, recordAnswer{RequestID: r.id.String(), ReceivedAt: r.receivedAt.Format(time.RFC3339), Subject: r.subject.prefix()})
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

func (e *forgetExtension) servePost(w http.ResponseWriter, req *http.Request) {
	if !isJSON(req.Header.Get("Content-Type")) {
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than max_request_body_size (%d bytes)", tooBig.Limit))
			return
		}
		writeError(w, http.StatusBadRequest, "reading the body failed")
		return
	}
	userID, status, msg := parseForget(body)
	if status != 0 {
		e.set.Logger.Debug("Rejected a forget request", zap.Int("status", status), zap.String("reason", msg))
		writeError(w, status, msg)
		return
	}

	r, created, err := e.forgetAs(req.Context(), e.requesterOf(req), userID, time.Now())
	if err != nil {
		e.set.Logger.Error("Could not record a forget request; answered 503", zap.String("subject", e.hasher.subject(userID).prefix()), zap.Error(err))
		w.Header().Set("Retry-After", retryAfterSeconds)
		what := "stored"
		switch {
		case errors.As(err, new(errAudit)):
			what = "written to the audit log"
		case errors.As(err, new(errPublish)):
			what = "written to Kafka"
		}
		writeError(w, http.StatusServiceUnavailable, "the request could not be "+what+" and was not recorded; retry after "+retryAfterSeconds+"s")
		return
	}
	answer := forgetAnswer{RequestID: r.id.String(), Status: statusEffective, ReceivedAt: r.receivedAt.Format(time.RFC3339)}
	if !created {
		e.set.Logger.Info("Forget request repeated for a user already forgotten",
			zap.String("request_id", answer.RequestID), zap.String("subject", r.subject.prefix()), zap.String("received_at", answer.ReceivedAt))
		writeJSON(w, http.StatusOK, answer)
		return
	}
	e.set.Logger.Info("Forget request recorded; the user's new events are dropped from now on",
		zap.String("request_id", answer.RequestID), zap.String("subject", r.subject.prefix()), zap.String("received_at", answer.ReceivedAt),
		zap.Bool("persisted", e.cfg.Storage != nil), zap.Bool("published", e.cfg.Sync.Kafka.HasValue()))
	writeJSON(w, http.StatusAccepted, answer)
}

// parseForget reads {"userId":"..."}. On error it returns a 4xx status and a
// message that quotes nothing from the body.
func parseForget(body []byte) (userID string, status int, msg string) {
	const want = wantBody
	if len(bytes.TrimSpace(body)) == 0 {
		return "", http.StatusBadRequest, "empty body; " + want
	}
	if !utf8.Valid(body) {
		return "", http.StatusBadRequest, "body is not valid UTF-8"
	}
	// The first JSON value is read whole, its keys checked one by one
	// (checkText: an unknown key is found by comparing it with userId, not
	// by reading an error's text), and only then decoded.
	dec := json.NewDecoder(bytes.NewReader(body))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		var syntax *json.SyntaxError
		switch {
		case errors.As(err, &syntax):
			return "", http.StatusBadRequest, fmt.Sprintf("body is not valid JSON (syntax error at byte %d)", syntax.Offset)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return "", http.StatusBadRequest, "body is not valid JSON (it ends too early)"
		default:
			return "", http.StatusBadRequest, "body is not valid JSON; " + want
		}
	}
	if msg := checkText(raw); msg != "" {
		return "", http.StatusBadRequest, msg
	}
	var in struct {
		UserID *string `json:"userId"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typ) && typ.Field == "userId":
			return "", http.StatusBadRequest, "userId: must be a string, got a JSON " + typ.Value
		case errors.As(err, &typ):
			return "", http.StatusBadRequest, "body must be a JSON object, got a JSON " + typ.Value + "; " + want
		default:
			return "", http.StatusBadRequest, "body is not valid JSON; " + want
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", http.StatusBadRequest, "body has data after the JSON object; " + want
	}
	switch {
	case in.UserID == nil:
		return "", http.StatusBadRequest, "userId: required; " + want
	case *in.UserID == "":
		return "", http.StatusBadRequest, "userId: must not be empty"
	case len(*in.UserID) > maxUserIDLength:
		return "", http.StatusBadRequest, fmt.Sprintf("userId: must be at most %d bytes, got %d", maxUserIDLength, len(*in.UserID))
	}
	return *in.UserID, 0, ""
}

// checkText applies Pulse's JSON text rules (internal/schema/jsontext.go)
// to a syntactically valid value, which encoding/json alone does not: a key
// is matched exactly (encoding/json also takes "userid" or "USERID" for
// userId), a key twice is an error (encoding/json keeps the last copy, the
// analytics receiver rejects the event), and a lone surrogate escape is an
// error (encoding/json stores U+FFFD, which would forget another id than
// the one events carry). It returns the error message, or "" when the body
// passes. Shapes other than an object are left to the decoder's messages.
func checkText(body []byte) string {
	const want = wantBody
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return ""
	}
	seen := false
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return ""
		}
		if key != "userId" {
			return "body has a field other than userId; " + want
		}
		if seen {
			return "userId: " + schema.ReasonDuplicateField + "; " + want
		}
		seen = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return ""
		}
		if len(raw) > 0 && raw[0] == '"' && schema.LoneSurrogate(raw) >= 0 {
			return "userId: " + schema.ReasonLoneSurrogate
		}
	}
	return ""
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorAnswer{Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
