package quality

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Querier runs an instant PromQL query at a time: a Prometheus-compatible
// query API, or an engine in tests.
type Querier interface {
	Query(ctx context.Context, query string, at time.Time) (model.Vector, error)
}

// Client is a Querier over a Prometheus HTTP query API, through
// client_golang's API client.
type Client struct {
	url string
	api promv1.API
}

// NewClient returns a Client for the API at url (http://localhost:9090);
// rt nil is http.DefaultTransport.
func NewClient(url string, rt http.RoundTripper) (*Client, error) {
	c, err := api.NewClient(api.Config{Address: url, RoundTripper: rt})
	if err != nil {
		return nil, fmt.Errorf("store url %q: %w", url, err)
	}
	return &Client{url: url, api: promv1.NewAPI(c)}, nil
}

// StoreError is a query the store did not answer.
type StoreError struct {
	URL string
	Err error
}

func (e *StoreError) Error() string { return fmt.Sprintf("store %s: %v", e.URL, e.Err) }
func (e *StoreError) Unwrap() error { return e.Err }

// Query runs q at at and returns its instant vector.
func (c *Client) Query(ctx context.Context, q string, at time.Time) (model.Vector, error) {
	v, _, _, err := c.api.Query(ctx, q, at)
	if err != nil {
		return nil, &StoreError{URL: c.url, Err: err}
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, &StoreError{URL: c.url, Err: fmt.Errorf("query answered a %s, want a vector", v.Type())}
	}
	return vec, nil
}

// ErrNoData is returned when the store holds no accepted or rejected items
// in the period.
var ErrNoData = errors.New("no accepted or rejected items in the period")
