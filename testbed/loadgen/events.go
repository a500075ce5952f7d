package loadgen

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

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
