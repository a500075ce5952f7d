package httpserver

import (
	"encoding/json"
	"net/http"
)

// WritePrometheusError answers in the Prometheus HTTP API's error shape,
// {"status":"error","errorType":...,"error":msg}, for errors that do not
// come from Prometheus' own handlers (unknown paths, auth, limits, the live
// page). msg is a fixed phrase, at most naming a parameter: never the
// client's text. The type follows the status as Prometheus names them.
func WritePrometheusError(w http.ResponseWriter, status int, msg string) {
	typ := "bad_data"
	switch {
	case status == http.StatusNotFound:
		typ = "not_found"
	case status == http.StatusForbidden:
		typ = "forbidden"
	case status == http.StatusServiceUnavailable:
		typ = "unavailable"
	case status >= 500:
		typ = "internal"
	}
	b, _ := json.Marshal(struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
	}{"error", typ, msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
