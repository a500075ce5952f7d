package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// Stats is what a run sent and what the receiver answered. Event counts are
// of analytics events only; recommendations and snapshots are counted in
// Other.
type Stats struct {
	Sent, Accepted, Rejected int64
	// Other counts recommendations and snapshots accepted.
	Other            int64
	Requests, Failed int64
	// Retried counts resent requests (Retry).
	Retried int64
	// Status counts answers by HTTP status.
	Status map[int]int64
	// RetryAfter counts 429 and 503 answers that carried Retry-After.
	RetryAfter int64
	// Elapsed is the run's wall time.
	Elapsed time.Duration
	// Latency holds every event request's answer time (for percentiles).
	Latency []time.Duration
}

// Progress is updated while a run goes: Started counts the events of
// requests handed to the network, Accepted those acknowledged.
type Progress struct {
	Started, Accepted atomic.Int64
}

// Run sends traffic until ctx ends or total events were sent (total 0: no
// limit). progress, when not nil, is updated as requests go and return.
// When ctx ends no new request starts; the ones in flight finish (within
// the client's 30 s timeout), so that their answers are counted.
func Run(ctx context.Context, cfg Config, total int64, progress *Progress) (Stats, error) {
	if cfg.Rate < 0 || cfg.Batch <= 0 || cfg.Workers <= 0 {
		return Stats{}, fmt.Errorf("loadgen: rate must not be negative, batch and workers must be positive: %+v", cfg)
	}
	reqs, err := Generate(cfg, time.Now())
	if err != nil {
		return Stats{}, err
	}
	if progress == nil {
		progress = new(Progress)
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Workers + 2, MaxConnsPerHost: cfg.Workers + 2}}
	defer client.CloseIdleConnections()
	st := Stats{Status: map[int]int64{}}
	var mu sync.Mutex
	var next, events atomic.Int64 // request index, events claimed

	var tick <-chan time.Time
	if cfg.Rate > 0 {
		ticker := time.NewTicker(time.Duration(float64(time.Second) * float64(cfg.Batch) / float64(cfg.Rate)))
		defer ticker.Stop()
		tick = ticker.C
	}
	var wg sync.WaitGroup
	if cfg.Snapshots > 0 && cfg.Protocol != OTLP {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(cfg.Snapshots)
			defer t.Stop()
			for {
				for _, req := range snapshots(time.Now()) {
					res := send(ctx, client, cfg, req)
					mu.Lock()
					st.record(req, res)
					mu.Unlock()
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				if total > 0 && events.Load() >= total {
					return
				}
			}
		}()
	}
	start := time.Now()
	for range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if tick != nil {
					select {
					case <-ctx.Done():
						return
					case <-tick:
					}
				}
				req := reqs[int(next.Add(1)-1)%len(reqs)]
				if req.Kind == "events" {
					if first := events.Add(int64(req.Events)) - int64(req.Events); total > 0 && first >= total {
						return
					}
					progress.Started.Add(int64(req.Events))
				}
				res := send(context.WithoutCancel(ctx), client, cfg, req)
				if req.Kind == "events" {
					progress.Accepted.Add(res.accepted)
				}
				mu.Lock()
				st.record(req, res)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	st.Elapsed = time.Since(start)
	return st, nil
}

type result struct {
	accepted, rejected int64
	status             int
	retryAfter         bool
	retryAfterDur      time.Duration
	retries            int64
	latency            time.Duration
	err                error
}

func (st *Stats) record(req Request, res result) {
	st.Requests++
	st.Retried += res.retries
	if res.err != nil {
		st.Failed++
	} else {
		st.Status[res.status]++
		if res.retryAfter {
			st.RetryAfter++
		}
	}
	if req.Kind != "events" {
		st.Other += res.accepted
		return
	}
	st.Sent += int64(req.Events)
	st.Accepted += res.accepted
	st.Rejected += res.rejected
	if res.err == nil {
		st.Latency = append(st.Latency, res.latency)
	}
}

const maxRetries = 20

// send posts req, retrying 429/503 after Retry-After when cfg.Retry.
func send(ctx context.Context, c *http.Client, cfg Config, req Request) result {
	start := time.Now()
	var res result
	for attempt := 0; ; attempt++ {
		res = post(ctx, c, cfg.URL+req.Path, req)
		res.retries = int64(attempt)
		if !cfg.Retry || res.err != nil || attempt == maxRetries || (res.status != http.StatusTooManyRequests && res.status != http.StatusServiceUnavailable) {
			break
		}
		wait := res.retryAfterDur
		if wait <= 0 {
			wait = time.Second
		}
		wait += time.Duration(rand.Int64N(int64(wait)))
		select {
		case <-ctx.Done():
			res.latency = time.Since(start)
			return res
		case <-time.After(wait):
		}
	}
	res.latency = time.Since(start)
	return res
}

func post(ctx context.Context, c *http.Client, url string, req Request) result {
	body := req.Body
	if req.Fresh() {
		body = req.Stamped(time.Now())
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return result{err: err}
	}
	hr.Header.Set("Content-Type", req.ContentType)
	resp, err := c.Do(hr)
	if err != nil {
		return result{err: err}
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	res := result{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After") != ""}
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
		res.retryAfterDur = time.Duration(secs) * time.Second
	}
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode == http.StatusBadRequest && req.ContentType == "application/json" {
			// The analytics receiver rejects a request whose every item is bad
			// with 400 and the same per-item answer.
			res.rejected = int64(req.Events)
		}
		return res
	}
	if req.ContentType == "application/x-protobuf" {
		var a = plogotlp.NewExportResponse()
		if err := a.UnmarshalProto(raw); err != nil {
			res.err = fmt.Errorf("decoding the OTLP answer: %w", err)
			return res
		}
		res.rejected = a.PartialSuccess().RejectedLogRecords()
		res.accepted = int64(req.Events) - res.rejected
		return res
	}
	var a struct {
		Accepted *int64            `json:"accepted"`
		Rejected []json.RawMessage `json:"rejected"`
	}
	if err := json.Unmarshal(raw, &a); err != nil || a.Accepted == nil {
		res.err = errors.Join(errors.New("the 200 answer has no accepted count"), err)
		return res
	}
	res.accepted, res.rejected = *a.Accepted, int64(len(a.Rejected))
	return res
}
