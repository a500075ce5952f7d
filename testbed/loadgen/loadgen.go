// Package loadgen generates seed-shaped analytics traffic for the testbed:
// a realistic mix of platforms, event types and behaviour details, users
// with sessions, a configurable share of values that carry PII, sent to the
// analytics receiver in batches at a target rate.
package loadgen // import "github.com/pulse-otel/pulse/testbed/loadgen"

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Config shapes the traffic.
type Config struct {
	// URL is the analytics receiver's base URL, e.g. http://127.0.0.1:4320.
	URL string
	// Rate is the target events per second.
	Rate int
	// Batch is the number of events per request.
	Batch int
	// Users and Sessions bound the identifiers used.
	Users, Sessions int
	// PIIShare is the share of events (0 to 1) with PII in free text.
	PIIShare float64
	// Workers is the number of concurrent senders.
	Workers int
	// Seed makes the traffic reproducible.
	Seed uint64
}

// Stats is what a run sent and what the receiver answered.
type Stats struct {
	Sent, Accepted, Rejected int64
	Requests, Failed         int64
	// Status counts answers by HTTP status.
	Status map[int]int64
	// Elapsed is the run's wall time.
	Elapsed time.Duration
}

var (
	platforms  = []string{"web", "ios", "android"}
	categories = []string{"workout", "nutrition", "recovery", "payment", "profile"}
	actions    = []string{"view", "create", "complete", "share"}
	behaviors  = []string{"navigation", "interaction", "engagement", "conversion", "abandonment"}
	pii        = []string{"reach me at jane.doe@example.com", "call +44 20 7946 0958", "card 4111 1111 1111 1111"}
)

// Event returns one analytics event (JSON) at time ts.
func Event(r *rand.Rand, cfg Config, seq int64, ts time.Time) map[string]any {
	user := r.IntN(max(cfg.Users, 1))
	e := map[string]any{
		"eventId":           "evt-" + strconv.FormatInt(seq, 10),
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

// Run sends traffic until ctx ends or total events were sent (total 0:
// no limit), pacing batches to cfg.Rate.
func Run(ctx context.Context, cfg Config, total int64) (Stats, error) {
	if cfg.Rate <= 0 || cfg.Batch <= 0 || cfg.Workers <= 0 {
		return Stats{}, fmt.Errorf("loadgen: rate, batch and workers must be positive: %+v", cfg)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Workers}}
	var st Stats
	var mu sync.Mutex
	st.Status = map[int]int64{}
	var seq atomic.Int64
	interval := time.Duration(float64(time.Second) * float64(cfg.Batch) / float64(cfg.Rate))
	ticks := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(ticks)
		next := time.Now()
		for {
			if total > 0 && seq.Load() >= total {
				return
			}
			select {
			case <-ctx.Done():
				return
			case ticks <- struct{}{}:
			}
			next = next.Add(interval)
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(cfg.Seed, uint64(w)))
			for range ticks {
				n := int64(cfg.Batch)
				first := seq.Add(n) - n
				if total > 0 {
					if first >= total {
						continue
					}
					n = min(n, total-first)
				}
				evs := make([]map[string]any, n)
				now := time.Now()
				for i := range evs {
					evs[i] = Event(r, cfg, first+int64(i), now)
				}
				body, _ := json.Marshal(evs)
				acc, rej, status, err := post(ctx, client, cfg.URL+"/v1/events", body)
				mu.Lock()
				st.Requests++
				st.Sent += n
				if err != nil {
					st.Failed++
				} else {
					st.Status[status]++
					st.Accepted += acc
					st.Rejected += rej
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	st.Elapsed = time.Since(start)
	return st, nil
}

func post(ctx context.Context, c *http.Client, url string, body []byte) (accepted, rejected int64, status int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, 0, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var a struct {
		Accepted int64             `json:"accepted"`
		Rejected []json.RawMessage `json:"rejected"`
	}
	_ = json.Unmarshal(raw, &a)
	return a.Accepted, int64(len(a.Rejected)), resp.StatusCode, nil
}
