// Package promquery runs instant queries against a Prometheus HTTP API
// (promstore's or a real Prometheus's) for the testbed.
package promquery // import "github.com/pulse-otel/pulse/testbed/internal/promquery"

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Instant runs query at the API's base URL (http://host:port) and returns
// the value of the first sample; found is false when the result is empty.
func Instant(c *http.Client, api, query string) (v float64, found bool, err error) {
	resp, err := c.Get(api + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return 0, false, err
	}
	defer func() { _ = resp.Body.Close() }()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, false, fmt.Errorf("query %s: %w", query, err)
	}
	if r.Status != "success" {
		return 0, false, fmt.Errorf("query %s: %s", query, r.Error)
	}
	if len(r.Data.Result) == 0 {
		return 0, false, nil
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	v, err = strconv.ParseFloat(s, 64)
	return v, err == nil, err
}
