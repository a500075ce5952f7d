// Package loadgen generates seed-shaped analytics traffic for the testbed:
// a realistic mix of platforms, event types and behaviour details, users
// with sessions, AI recommendations with later responses, model and
// business snapshots, and a configurable share of values that carry PII.
// It sends to the analytics receiver as JSON or to any OTLP/HTTP logs
// endpoint as protobuf, in batches, at a target rate or as fast as the
// collector answers.
//
// Request bodies are generated before the run (Generate) so that the load
// generator spends its CPU on sending, not on encoding: on a shared 2-core
// machine that is CPU the collector under test gets.
package loadgen // import "github.com/pulse-otel/pulse/testbed/loadgen"

import (
	"bytes"
	"context"
	"encoding/binary"
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

// Protocol is how events are sent.
type Protocol string

const (
	// JSON posts to the analytics receiver (/v1/events, /v1/recommendations,
	// /v1/model-metrics, /v1/business-metrics).
	JSON Protocol = "json"
	// OTLP posts OTLP/HTTP protobuf log records in Pulse's event shape
	// (docs/events.md, "Sending the same event over OTLP") to /v1/logs.
	OTLP Protocol = "otlp"
)

// Config shapes the traffic.
type Config struct {
	// URL is the receiver's base URL, e.g. http://127.0.0.1:4320 (JSON) or
	// http://127.0.0.1:4318 (OTLP).
	URL string
	// Protocol is JSON (default) or OTLP.
	Protocol Protocol
	// Rate is the target events per second; 0 sends as fast as Workers
	// concurrent requests are answered (closed loop).
	Rate int
	// Batch is the number of events per request.
	Batch int
	// Users and Sessions bound the identifiers used.
	Users, Sessions int
	// PIIShare is the share of events (0 to 1) with PII in free text.
	PIIShare float64
	// RecommendationShare is the share of JSON requests that carry AI
	// recommendations (half of them later responses) instead of events.
	RecommendationShare float64
	// Snapshots sends one model and one business snapshot (JSON) this
	// often; 0 sends none.
	Snapshots time.Duration
	// Workers is the number of concurrent senders.
	Workers int
	// Bodies is how many distinct request bodies are generated and cycled
	// through (default 64).
	Bodies int
	// Retry resends a request answered 429 or 503 after its Retry-After
	// plus up to as much random jitter, up to 20 times, as an SDK would.
	Retry bool
	// Seed makes the traffic reproducible.
	Seed uint64
}

// Request is one pre-encoded request.
type Request struct {
	Path        string
	ContentType string
	Body        []byte
	// Events is how many events (or recommendations, or snapshots) it carries.
	Events int
	// Kind is "events", "recommendations" or "snapshots".
	Kind string
	// stamps are the offsets of the event timestamps in Body, rewritten to
	// the send time by Stamped: as ASCII epoch milliseconds (JSON) or as
	// little-endian fixed64 nanoseconds (OTLP).
	stamps []int
	// ids are the offsets of idSuffix in Body, replaced at each send by the
	// send's number, so that every send carries new eventIds and
	// recommendationIds (the connector counts a repeated id once).
	ids  []int
	otlp bool
}

// idSuffix ends every eventId and recommendationId loadgen writes; Stamped
// replaces it with the send's number in 16 hex digits (the same width, so
// JSON and protobuf bodies keep their lengths).
const idSuffix = "@@@@@@@@@@@@@@@@"

// sends numbers the bodies Stamped writes.
var sends atomic.Uint64

// Fresh reports whether Stamped must run before the body is sent.
func (r Request) Fresh() bool { return len(r.stamps) > 0 || len(r.ids) > 0 }

// Stamped returns a copy of the body with every event timestamp set to now
// and every id made new (see idSuffix),
// so that pre-encoded requests carry fresh events.
func (r Request) Stamped(now time.Time) []byte { return r.StampedAs(now, sends.Add(1)) }

// StampedAs is Stamped with the ids of send number n.
func (r Request) StampedAs(now time.Time, n uint64) []byte {
	b := bytes.Clone(r.Body)
	if len(r.ids) > 0 {
		var hex [16]byte
		for i := range hex {
			hex[15-i] = "0123456789abcdef"[n>>(4*i)&15]
		}
		for _, off := range r.ids {
			copy(b[off:off+16], hex[:])
		}
	}
	if r.otlp {
		ns := uint64(now.UnixNano())
		for _, off := range r.stamps {
			binary.LittleEndian.PutUint64(b[off:], ns)
		}
		return b
	}
	var ms [13]byte
	strconv.AppendInt(ms[:0], now.UnixMilli(), 10)
	for _, off := range r.stamps {
		copy(b[off:off+13], ms[:])
	}
	return b
}

// stampOffsets finds every occurrence of pattern in body.
func stampOffsets(body, pattern []byte) []int {
	var offs []int
	for i := 0; ; {
		j := bytes.Index(body[i:], pattern)
		if j < 0 {
			return offs
		}
		offs = append(offs, i+j)
		i += j + len(pattern)
	}
}

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

var (
	platforms  = []string{"web", "ios", "android"}
	categories = []string{"workout", "nutrition", "recovery", "payment", "profile"}
	actions    = []string{"view", "create", "complete", "share"}
	behaviors  = []string{"navigation", "interaction", "engagement", "conversion", "abandonment"}
	pii        = []string{"reach me at jane.doe@example.com", "call +44 20 7946 0958", "card 4111 1111 1111 1111"}
	responses  = []string{"accepted", "rejected", "modified", "ignored"}
)

// Event returns one analytics event (JSON) at time ts.
func Event(r *rand.Rand, cfg Config, seq int64, ts time.Time) map[string]any {
	user := r.IntN(max(cfg.Users, 1))
	e := map[string]any{
		"eventId":           "evt-" + strconv.FormatInt(seq, 10) + "-" + idSuffix,
		"sessionId":         fmt.Sprintf("s-%d", r.IntN(max(cfg.Sessions, 1))),
		"userId":            fmt.Sprintf("u-%d", user),
		"deviceId":          fmt.Sprintf("d-%d", user),
		"eventType":         "user_action",
		"category":          categories[r.IntN(len(categories))],
		"action":            actions[r.IntN(len(actions))],
		"platform":          platforms[user%len(platforms)],
		"appVersion":        "4.2." + strconv.Itoa(user%3),
		"consentLevel":      "analytics",
		"dataRetentionDays": 365,
		"timestamp":         ts.UnixMilli(),
		"userAgent":         "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15",
		"properties": map[string]any{
			"page":     "/workouts/plan",
			"feature":  "planner",
			"duration": r.IntN(5000),
			"metadata": map[string]any{"plan": "pro", "experiment": "b"},
		},
	}
	if r.Float64() < 0.05 {
		e["eventType"] = "error_tracking"
	}
	if r.Float64() < cfg.PIIShare {
		e["properties"].(map[string]any)["metadata"].(map[string]any)["note"] = pii[r.IntN(len(pii))]
	}
	b := map[string]any{"behaviorType": behaviors[r.IntN(len(behaviors))]}
	switch b["behaviorType"] {
	case "navigation":
		b["pageData"] = map[string]any{"path": fmt.Sprintf("/p/%d", r.IntN(20)), "title": "Plan", "timeOnPage": r.IntN(60000), "scrollDepth": r.IntN(101)}
	case "interaction":
		b["interactionData"] = map[string]any{"elementType": "button", "clickPosition": map[string]any{"x": r.IntN(400), "y": r.IntN(800)}}
	case "engagement":
		b["engagementData"] = map[string]any{"contentType": "video", "engagementDuration": r.IntN(300000), "completionPercentage": r.IntN(101)}
	case "conversion":
		b["conversionData"] = map[string]any{"goalType": "purchase", "funnelStep": "checkout", "conversionTime": r.IntN(600000), "previousSteps": []string{"cart"}, "goalValue": 19.99}
	}
	e["behavior"] = b
	return e
}

// Recommendations returns n recommendation items: full recommendations,
// every other one followed by a later response to it.
func Recommendations(r *rand.Rand, cfg Config, seq int64, n int, ts time.Time) []map[string]any {
	out := make([]map[string]any, 0, n)
	for i := 0; len(out) < n; i++ {
		id := "rec-" + strconv.FormatInt(seq+int64(i), 10) + "-" + idSuffix
		user := fmt.Sprintf("u-%d", r.IntN(max(cfg.Users, 1)))
		out = append(out, map[string]any{
			"recommendationId": id, "userId": user, "consentLevel": "analytics", "modelId": "workout-recommender", "modelVersion": "3.2.0",
			"recommendationType": "workout",
			"recommendationData": map[string]any{"items": []any{map[string]any{"workoutId": "w-17"}}, "confidence": r.Float64(), "personalizedFactors": []string{"goal:strength"}},
			"context":            map[string]any{"timeOfDay": "morning", "dayOfWeek": "monday", "userGoals": []string{"strength"}, "recentActivity": []string{"run"}, "deviceType": "mobile"},
			"engagementMetrics":  map[string]any{"viewDuration": r.IntN(10000), "clickThroughRate": r.Float64()},
			"timestamp":          ts.UnixMilli() - 60_000,
		})
		if len(out) < n && i%2 == 0 {
			out = append(out, map[string]any{
				"recommendationId": id, "userId": user, "consentLevel": "analytics",
				"userResponse":      map[string]any{"action": responses[r.IntN(len(responses))], "responseTime": float64(r.IntN(60000)) / 10, "feedback": map[string]any{"rating": 1 + r.IntN(5)}},
				"responseTimestamp": ts.UnixMilli(),
			})
		}
	}
	return out
}

// snapshots returns one model and one business snapshot request at ts,
// with every field the receiver requires (docs/events.md).
func snapshots(ts time.Time) []Request {
	model := map[string]any{
		"modelId": "workout-recommender", "modelVersion": "3.2.0", "modelType": "recommendation",
		"accuracyScore": 0.91, "precisionScore": 0.88, "recallScore": 0.86, "f1Score": 0.87,
		"predictionLatency": 38.5, "throughput": 120, "errorRate": 0.004, "acceptanceRate": 0.62,
		"modificationRate": 0.18, "satisfactionScore": 4.2,
		"dataDrift":        map[string]any{"detected": false, "severity": "low", "affectedFeatures": []string{}, "driftScore": 0.03},
		"safetyMetrics":    map[string]any{"violationCount": 0, "safetyScore": 99.5, "riskLevel": "low"},
		"resourceUsage":    map[string]any{"cpuUtilization": 41.5, "memoryUsage": 2147483648},
		"evaluationPeriod": map[string]any{"startTime": ts.Add(-time.Hour).UnixMilli(), "endTime": ts.UnixMilli(), "sampleSize": 43200},
		"timestamp":        ts.UnixMilli(),
	}
	business := map[string]any{"metrics": []any{map[string]any{
		"metricId": "rev-" + strconv.FormatInt(ts.Unix(), 10), "metricName": "subscription_revenue", "category": "revenue",
		"value": 12840.5, "unit": "EUR", "trend": "up", "confidence": 0.97,
		"dimensions":  map[string]any{"timeGranularity": "daily", "platform": "web"},
		"periodStart": ts.Add(-24 * time.Hour).UnixMilli(), "periodEnd": ts.UnixMilli(), "timestamp": ts.UnixMilli(),
	}}}
	m, _ := json.Marshal(model)
	b, _ := json.Marshal(business)
	return []Request{
		{Path: "/v1/model-metrics", ContentType: "application/json", Body: m, Events: 1, Kind: "snapshots"},
		{Path: "/v1/business-metrics", ContentType: "application/json", Body: b, Events: 1, Kind: "snapshots"},
	}
}

// Generate pre-encodes cfg.Bodies requests of cfg.Batch events each (a
// RecommendationShare of them recommendations, JSON only), timestamped ts.
func Generate(cfg Config, ts time.Time) ([]Request, error) {
	n := cfg.Bodies
	if n <= 0 {
		n = 64
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b9))
	reqs := make([]Request, 0, n)
	var seq int64
	for range n {
		// Draw first whatever the protocol, so that JSON and OTLP runs with
		// the same seed carry the same events.
		if rec := r.Float64() < cfg.RecommendationShare; rec && cfg.Protocol != OTLP {
			recs := Recommendations(r, cfg, seq, cfg.Batch, ts)
			seq += int64(len(recs))
			body, err := json.Marshal(recs)
			if err != nil {
				return nil, err
			}
			reqs = append(reqs, Request{Path: "/v1/recommendations", ContentType: "application/json", Body: body, Events: len(recs), Kind: "recommendations", ids: stampOffsets(body, []byte(idSuffix))})
			continue
		}
		evs := make([]map[string]any, cfg.Batch)
		for i := range evs {
			evs[i] = Event(r, cfg, seq, ts)
			seq++
		}
		var req Request
		switch cfg.Protocol {
		case OTLP:
			body, err := plogotlp.NewExportRequestFromLogs(ToLogs(evs)).MarshalProto()
			if err != nil {
				return nil, err
			}
			req = Request{Path: "/v1/logs", ContentType: "application/x-protobuf", Body: body, otlp: true}
			req.stamps = stampOffsets(body, binary.LittleEndian.AppendUint64(nil, uint64(ts.UnixMilli())*1e6))
		case JSON, "":
			body, err := json.Marshal(evs)
			if err != nil {
				return nil, err
			}
			req = Request{Path: "/v1/events", ContentType: "application/json", Body: body}
			req.stamps = stampOffsets(body, strconv.AppendInt(nil, ts.UnixMilli(), 10))
		default:
			return nil, fmt.Errorf("loadgen: unknown protocol %q (json or otlp)", cfg.Protocol)
		}
		req.Events, req.Kind = len(evs), "events"
		req.ids = stampOffsets(req.Body, []byte(idSuffix))
		reqs = append(reqs, req)
	}
	return reqs, nil
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
	defer resp.Body.Close()
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
