package decoder

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pulse-otel/pulse/internal/schema"
)

// testNow is the server clock of every test: 2025-10-09T12:00:00Z.
var testNow = time.Date(2025, 10, 9, 12, 0, 0, 0, time.UTC)

const (
	nowMS  = int64(1760011200000) // testNow in epoch milliseconds
	minute = int64(60_000)
	hour   = 60 * minute
	day    = 24 * hour

	tEvent = nowMS - 2*minute // when the fixtures' events happened
	tRec   = nowMS - 10*minute
	tSnap  = nowMS - minute
)

func kinds() []Kind {
	return []Kind{Events, Recommendations, ModelMetrics, BusinessMetrics, SystemMetrics}
}

// rec is a JSON object under construction.
type rec = map[string]any

func validEvent() rec {
	return rec{
		"eventId":      "evt-0001",
		"sessionId":    "sess-42",
		"userId":       "user-7",
		"deviceId":     "dev-abc",
		"eventType":    "user_action",
		"category":     "workout",
		"action":       "view",
		"userAgent":    "Mozilla/5.0 (X11; Linux x86_64)",
		"platform":     "web",
		"appVersion":   "3.4.1",
		"consentLevel": "analytics",
		"properties": rec{
			"page":     "/workouts",
			"feature":  "plan",
			"value":    12.5,
			"duration": 3400,
			"metadata": rec{"experiment": "b", "cohort": 3},
		},
		"dataRetentionDays": 90,
		"timestamp":         tEvent,
		"behavior": rec{
			"behaviorType": "navigation",
			"eventId":      "evt-0001",
			"sessionId":    "sess-42",
			"userId":       "user-7",
			"timestamp":    tEvent,
			"pageData": rec{
				"path": "/workouts", "title": "Workouts", "referrer": "/home",
				"timeOnPage": 3400, "scrollDepth": 65, "exitPage": false,
			},
			"interactionData": rec{
				"elementType": "button", "elementId": "start", "elementText": "Start",
				"clickPosition": rec{"x": 10, "y": 20.5}, "interactionCount": 2,
			},
			"engagementData": rec{
				"contentType": "video", "contentId": "vid-1", "engagementDuration": 120,
				"completionPercentage": 80, "ratingGiven": 4, "shared": true,
			},
			"conversionData": rec{
				"goalType": "subscription", "goalValue": 9.99, "funnelStep": "payment",
				"conversionTime": 18000, "previousSteps": []any{"pricing", "checkout"},
			},
		},
	}
}

func validRecommendation() rec {
	return rec{
		"recommendationId":   "rec-1",
		"userId":             "user-7",
		"consentLevel":       "analytics",
		"modelId":            "reco",
		"modelVersion":       "2.3.0",
		"recommendationType": "workout",
		"recommendationData": rec{
			"items":               []any{rec{"id": "w-1", "score": 0.9}},
			"confidence":          0.82,
			"reasoning":           "matches the strength goal",
			"personalizedFactors": []any{"goal:strength"},
		},
		"userResponse": rec{
			"action": "modified", "responseTime": 12.5, "modifications": []any{"duration"},
			"feedback": rec{"rating": 4, "comment": "good"},
		},
		"context": rec{
			"timeOfDay": "morning", "dayOfWeek": "thursday", "userGoals": []any{"strength"},
			"recentActivity": []any{"run"}, "deviceType": "mobile",
		},
		"engagementMetrics": rec{"viewDuration": 8.2, "clickThroughRate": 0.4, "completionRate": 0.75},
		"timestamp":         tRec,
		"responseTimestamp": tRec + 12_500,
	}
}

// validResponse is the "later response" form of a recommendation.
func validResponse() rec {
	return rec{
		"recommendationId":  "rec-1",
		"userId":            "user-7",
		"consentLevel":      "analytics",
		"userResponse":      rec{"action": "accepted", "responseTime": 30},
		"responseTimestamp": tRec + 30_000,
	}
}

func validModel() rec {
	return rec{
		"modelId": "reco", "modelVersion": "2.3.0", "modelType": "recommendation",
		"accuracyScore": 0.91, "precisionScore": 0.88, "recallScore": 0.85, "f1Score": 0.865,
		"predictionLatency": 42.5, "throughput": 120, "errorRate": 0.01,
		"acceptanceRate": 0.6, "modificationRate": 0.2, "satisfactionScore": 4.2,
		"dataDrift": rec{"detected": true, "severity": "medium", "affectedFeatures": []any{"age", "goal"}, "driftScore": 0.31},
		"safetyMetrics": rec{
			"violationCount": 2, "safetyScore": 97.5, "lastViolationType": "unsafe_load", "riskLevel": "low",
		},
		"resourceUsage": rec{
			"cpuUtilization": 55, "memoryUsage": 2147483648, "gpuUtilization": 70, "costPerPrediction": 0.0004,
		},
		"evaluationPeriod": rec{"startTime": tSnap - hour, "endTime": tSnap, "sampleSize": 5000},
		"timestamp":        tSnap,
	}
}

func validBusiness() rec {
	return rec{
		"metricId": "mrr-2025-10-09", "metricName": "mrr", "category": "revenue",
		"value": 125000.5, "unit": "USD", "previousValue": 120000, "percentChange": 4.17, "trend": "up",
		"dimensions": rec{
			"timeGranularity": "daily", "segment": "pro", "channel": "organic",
			"geography": "EU", "platform": "web",
		},
		"confidence": 0.95, "sampleSize": 1200,
		"periodStart": nowMS - day, "periodEnd": nowMS, "timestamp": tSnap,
	}
}

func validSystem() rec {
	return rec{
		"serviceName": "api", "serviceVersion": "1.8.2", "environment": "production",
		"responseTime": rec{"average": 120, "median": 95, "p95": 310, "p99": 800},
		"throughput":   rec{"requestsPerSecond": 450, "transactionsPerSecond": 80},
		"errorMetrics": rec{
			"errorRate": 0.004, "errorCount": 27,
			"errorTypes": []any{rec{"type": "timeout", "count": 20}, rec{"type": "http_500", "count": 7}},
		},
		"resourceUsage": rec{
			"cpuUtilization": 61.5, "memoryUtilization": 72, "diskUtilization": 40,
			"networkIO": rec{"bytesIn": 1048576, "bytesOut": 4194304},
		},
		"databaseMetrics": rec{
			"queryTime":      rec{"average": 12.5, "slowQueries": 3},
			"connectionPool": rec{"activeConnections": 18, "poolUtilization": 0.45},
		},
		"availability": rec{"uptime": 99.95, "downtimeMinutes": 0.7, "incidentCount": 1},
		"timeWindow":   rec{"start": tSnap - 5*minute, "end": tSnap, "granularity": "minute"},
		"timestamp":    tSnap,
	}
}

func validFor(k Kind) rec {
	switch k {
	case Events:
		return validEvent()
	case Recommendations:
		return validRecommendation()
	case ModelMetrics:
		return validModel()
	case BusinessMetrics:
		return validBusiness()
	default:
		return validSystem()
	}
}

// walkPath follows a dotted path; "name[]" steps into the first element of an
// array of objects. It returns the object holding the last segment.
func walkPath(m rec, path string) (rec, string) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		if name, ok := strings.CutSuffix(p, "[]"); ok {
			m = m[name].([]any)[0].(rec)
			continue
		}
		next, ok := m[p].(rec)
		if !ok {
			next = rec{}
			m[p] = next
		}
		m = next
	}
	return m, parts[len(parts)-1]
}

// set puts v at path and returns m.
func set(m rec, path string, v any) rec {
	parent, name := walkPath(m, path)
	parent[name] = v
	return m
}

// del removes path and returns m.
func del(m rec, path string) rec {
	parent, name := walkPath(m, path)
	delete(parent, name)
	return m
}

// badUTF8 is replaced by a string holding invalid UTF-8 once marshalled:
// encoding/json would otherwise repair it.
const badUTF8 = "@@bad-utf8@@"

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return bytes.ReplaceAll(b, []byte(`"`+badUTF8+`"`), []byte("\"ab\xff\xfecd\""))
}

// insertAfter inserts s after the first occurrence of anchor.
func insertAfter(anchor, s string) func([]byte) []byte {
	return func(b []byte) []byte {
		i := bytes.Index(b, []byte(anchor))
		if i < 0 {
			panic("anchor not found: " + anchor)
		}
		i += len(anchor)
		return append(append(append([]byte(nil), b[:i]...), s...), b[i:]...)
	}
}

func decode(t testing.TB, opts Options, k Kind, body []byte) *Result {
	t.Helper()
	res, err := New(opts).Decode(k, body, testNow)
	if err != nil {
		t.Fatalf("Decode(%s): unexpected request error: %v", k, err)
	}
	if res.Accepted+len(res.Rejected) == 0 {
		t.Fatalf("Decode(%s): no event accepted or rejected", k)
	}
	return res
}

func logRecords(ld plog.Logs) []plog.LogRecord {
	var out []plog.LogRecord
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		sls := ld.ResourceLogs().At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				out = append(out, lrs.At(k))
			}
		}
	}
	return out
}

// findMetric returns the first metric named name.
func findMetric(md pmetric.Metrics, name string) (pmetric.Metric, bool) {
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		sms := md.ResourceMetrics().At(i).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				if ms.At(k).Name() == name {
					return ms.At(k), true
				}
			}
		}
	}
	return pmetric.Metric{}, false
}

func TestValidRecordAccepted(t *testing.T) {
	tests := []struct {
		kind  Kind
		rec   rec
		items int // log records or data points
	}{
		{Events, validEvent(), 1},
		{Events, del(del(del(del(validEvent(), "userId"), "behavior.userId"), "behavior"), "userAgent"), 1},
		{Recommendations, validRecommendation(), 1},
		{Recommendations, del(del(validRecommendation(), "userResponse"), "responseTimestamp"), 1},
		{Recommendations, validResponse(), 1},
		// 22 gauges: every numeric, boolean, enum and array field of the seed.
		{ModelMetrics, validModel(), 22},
		// Without the four optional metrics.
		{ModelMetrics, del(del(del(del(validModel(), "satisfactionScore"), "resourceUsage.gpuUtilization"), "resourceUsage.costPerPrediction"), "safetyMetrics.lastViolationType"), 19},
		{BusinessMetrics, validBusiness(), 6},
		{BusinessMetrics, del(del(del(validBusiness(), "previousValue"), "percentChange"), "sampleSize"), 3},
		// 4 response-time stats, 2 rates, error rate and count, 2 typed
		// errors, 3 utilisations, 2 network directions, 4 database, 3
		// availability.
		{SystemMetrics, validSystem(), 22},
		{SystemMetrics, del(validSystem(), "databaseMetrics"), 18},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.kind, i), func(t *testing.T) {
			res := decode(t, Options{}, tt.kind, mustJSON(tt.rec))
			if len(res.Rejected) != 0 {
				t.Fatalf("rejected: %+v", res.Rejected)
			}
			if res.Accepted != 1 || res.Items != tt.items {
				t.Fatalf("Accepted=%d Items=%d, want 1 and %d", res.Accepted, res.Items, tt.items)
			}
			if tt.kind.IsLogs() {
				if n := res.Logs.LogRecordCount(); n != 1 {
					t.Fatalf("%d log records, want 1", n)
				}
			} else if n := res.Metrics.DataPointCount(); n != tt.items {
				t.Fatalf("%d data points, want %d", n, tt.items)
			}
		})
	}
}

// The three request forms the wire contract allows.
func TestRequestForms(t *testing.T) {
	for _, k := range kinds() {
		one := validFor(k)
		two := validFor(k)
		forms := map[string]any{
			"array":   []any{one, two},
			"wrapper": rec{k.Wrapper(): []any{one, two}},
			"object":  one,
		}
		for name, body := range forms {
			t.Run(k.String()+"/"+name, func(t *testing.T) {
				res := decode(t, Options{}, k, mustJSON(body))
				want := 2
				if name == "object" {
					want = 1
				}
				if res.Accepted != want || len(res.Rejected) != 0 {
					t.Fatalf("Accepted=%d Rejected=%+v, want %d accepted", res.Accepted, res.Rejected, want)
				}
			})
		}
	}
	if got := []string{Events.Wrapper(), Recommendations.Wrapper(), ModelMetrics.Wrapper(), BusinessMetrics.Wrapper(), SystemMetrics.Wrapper()}; !reflect.DeepEqual(got, []string{"events", "recommendations", "metrics", "metrics", "metrics"}) {
		t.Errorf("wrappers = %v", got)
	}
}

type ruleCase struct {
	name string
	kind Kind
	opts Options
	rec  rec
	raw  func([]byte) []byte // edits the marshalled body
	want []FieldError
}

func fe(field, value, reason string) []FieldError {
	return []FieldError{{Field: field, Value: value, Reason: reason}}
}

const (
	countRange = "must be between 0 and 9.007199254740991e+15"
	missing    = "required field is missing"
	isNull     = "required field is null"
)

func ruleCases() []ruleCase {
	deep := func(levels int) any {
		var v any = "leaf"
		for range levels {
			v = rec{"n": v}
		}
		return v
	}
	return []ruleCase{
		// Wrong JSON type.
		{name: "string as number", kind: Events, rec: set(validEvent(), "eventId", 42),
			want: []FieldError{
				{Field: "eventId", Value: "<number of 2 characters>", Reason: "must be a string, not a number"},
				{Field: "behavior.eventId", Value: "<string of 8 bytes>", Reason: "must equal the event's eventId"},
			}},
		{name: "bool as string", kind: Events, rec: set(validEvent(), "behavior.pageData.exitPage", "yes"),
			want: fe("behavior.pageData.exitPage", "<string of 3 bytes>", "must be a boolean, not a string")},
		{name: "object as array", kind: Events, rec: set(validEvent(), "properties", []any{}),
			want: fe("properties", "<array>", "must be an object, not an array")},
		{name: "number as string", kind: ModelMetrics, rec: set(validModel(), "accuracyScore", "0.9"),
			want: fe("accuracyScore", "<string of 3 bytes>", "must be a number, not a string")},
		{name: "strings as string", kind: Recommendations, rec: set(validRecommendation(), "context.userGoals", "strength"),
			want: fe("context.userGoals", "<string of 8 bytes>", "must be an array of strings, not a string")},
		{name: "string element as number", kind: Events, rec: set(validEvent(), "behavior.conversionData.previousSteps", []any{"a", 7}),
			want: fe("behavior.conversionData.previousSteps[1]", "<number of 1 characters>", "must be a string, not a number")},
		{name: "time as string", kind: BusinessMetrics, rec: set(validBusiness(), "periodStart", "2025-10-08"),
			want: fe("periodStart", "<string of 10 bytes>", "must be epoch milliseconds (a number), not a string")},
		{name: "objects as object", kind: SystemMetrics, rec: set(validSystem(), "errorMetrics.errorTypes", rec{}),
			want: fe("errorMetrics.errorTypes", "<object>", "must be an array of objects, not an object")},
		{name: "array element not an object", kind: SystemMetrics, rec: set(validSystem(), "errorMetrics.errorTypes", []any{rec{"type": "a", "count": 1}, 5}),
			want: fe("errorMetrics.errorTypes[1]", "<number of 1 characters>", "must be an object, not a number")},
		{name: "event not an object", kind: Events, rec: nil, raw: func([]byte) []byte { return []byte(`[true]`) },
			want: fe("", "true", "must be a JSON object")},

		// Missing and null required fields.
		{name: "missing root", kind: Events, rec: del(validEvent(), "deviceId"),
			want: fe("deviceId", "", missing)},
		{name: "missing nested", kind: Events, rec: del(validEvent(), "behavior.conversionData.previousSteps"),
			want: fe("behavior.conversionData.previousSteps", "", missing)},
		{name: "missing in click position", kind: Events, rec: del(validEvent(), "behavior.interactionData.clickPosition.y"),
			want: fe("behavior.interactionData.clickPosition.y", "", missing)},
		{name: "missing in array element", kind: SystemMetrics, rec: del(validSystem(), "errorMetrics.errorTypes[].count"),
			want: fe("errorMetrics.errorTypes[0].count", "", missing)},
		{name: "missing object", kind: ModelMetrics, rec: del(validModel(), "dataDrift"),
			want: fe("dataDrift", "", missing)},
		{name: "null root", kind: Events, rec: set(validEvent(), "sessionId", nil),
			want: []FieldError{
				{Field: "sessionId", Value: "null", Reason: isNull},
				// behavior.sessionId now has nothing to match.
				{Field: "behavior.sessionId", Value: "<string of 7 bytes>", Reason: "must equal the event's sessionId"},
			}},
		{name: "null nested", kind: BusinessMetrics, rec: set(validBusiness(), "dimensions.timeGranularity", nil),
			want: fe("dimensions.timeGranularity", "null", isNull)},
		{name: "null optional is absent", kind: Events, rec: set(set(validEvent(), "userAgent", nil), "properties.page", nil),
			want: nil},
		{name: "empty identifier", kind: Events, rec: set(validEvent(), "deviceId", ""),
			want: fe("deviceId", "<string of 0 bytes>", "must not be empty")},

		// Enumerations.
		{name: "enum", kind: Events, rec: set(validEvent(), "platform", "windows"),
			want: fe("platform", `"windows"`, "must be one of web, ios, android")},
		{name: "enum nested", kind: Events, rec: set(validEvent(), "behavior.behaviorType", "scrolling"),
			want: fe("behavior.behaviorType", `"scrolling"`, "must be one of navigation, interaction, engagement, conversion, abandonment")},
		{name: "enum case", kind: Recommendations, rec: set(validRecommendation(), "userResponse.action", "Accepted"),
			want: fe("userResponse.action", "<string of 8 bytes>", "must be one of accepted, modified, rejected, ignored")},
		{name: "enum not a token", kind: ModelMetrics, rec: set(validModel(), "dataDrift.severity", "very high!"),
			want: fe("dataDrift.severity", "<string of 10 bytes>", "must be one of low, medium, high")},
		{name: "enum business", kind: BusinessMetrics, rec: set(validBusiness(), "trend", "sideways"),
			want: fe("trend", `"sideways"`, "must be one of up, down, stable")},
		{name: "enum system", kind: SystemMetrics, rec: set(validSystem(), "environment", "prod"),
			want: fe("environment", `"prod"`, "must be one of production, staging, development")},

		// 0–1 scores.
		{name: "ratio above", kind: Recommendations, rec: set(validRecommendation(), "recommendationData.confidence", 1.5),
			want: fe("recommendationData.confidence", "1.5", "must be between 0 and 1")},
		{name: "ratio below", kind: BusinessMetrics, rec: set(validBusiness(), "confidence", -0.1),
			want: fe("confidence", "-0.1", "must be between 0 and 1")},
		{name: "ratio model", kind: ModelMetrics, rec: set(validModel(), "accuracyScore", 1.01),
			want: fe("accuracyScore", "1.01", "must be between 0 and 1")},
		{name: "ratio system", kind: SystemMetrics, rec: set(validSystem(), "databaseMetrics.connectionPool.poolUtilization", 2),
			want: fe("databaseMetrics.connectionPool.poolUtilization", "2", "must be between 0 and 1")},
		{name: "ratio bounds inclusive", kind: Recommendations, rec: set(set(validRecommendation(), "recommendationData.confidence", 1), "engagementMetrics.clickThroughRate", 0),
			want: nil},

		// 1–5 ratings.
		{name: "rating above", kind: Events, rec: set(validEvent(), "behavior.engagementData.ratingGiven", 6),
			want: fe("behavior.engagementData.ratingGiven", "6", "must be between 1 and 5")},
		{name: "rating zero", kind: Recommendations, rec: set(validRecommendation(), "userResponse.feedback.rating", 0),
			want: fe("userResponse.feedback.rating", "0", "must be between 1 and 5")},
		{name: "satisfaction", kind: ModelMetrics, rec: set(validModel(), "satisfactionScore", 5.5),
			want: fe("satisfactionScore", "5.5", "must be between 1 and 5")},

		// 0–100 percentages.
		{name: "scroll depth", kind: Events, rec: set(validEvent(), "behavior.pageData.scrollDepth", 101),
			want: fe("behavior.pageData.scrollDepth", "101", "must be between 0 and 100")},
		{name: "safety score", kind: ModelMetrics, rec: set(validModel(), "safetyMetrics.safetyScore", 100.5),
			want: fe("safetyMetrics.safetyScore", "100.5", "must be between 0 and 100")},
		{name: "uptime", kind: SystemMetrics, rec: set(validSystem(), "availability.uptime", -1),
			want: fe("availability.uptime", "-1", "must be between 0 and 100")},
		{name: "cpu", kind: SystemMetrics, rec: set(validSystem(), "resourceUsage.cpuUtilization", 250),
			want: fe("resourceUsage.cpuUtilization", "250", "must be between 0 and 100")},

		// Negative durations and counts; non-integer counts.
		{name: "negative duration", kind: Events, rec: set(validEvent(), "properties.duration", -1),
			want: fe("properties.duration", "-1", "must not be negative")},
		{name: "negative latency", kind: ModelMetrics, rec: set(validModel(), "predictionLatency", -0.5),
			want: fe("predictionLatency", "-0.5", "must not be negative")},
		{name: "negative response time", kind: Recommendations, rec: set(validRecommendation(), "userResponse.responseTime", -3),
			want: fe("userResponse.responseTime", "-3", "must not be negative")},
		{name: "negative count", kind: Events, rec: set(validEvent(), "behavior.interactionData.interactionCount", -1),
			want: fe("behavior.interactionData.interactionCount", "-1", countRange)},
		{name: "negative count in element", kind: SystemMetrics, rec: set(validSystem(), "errorMetrics.errorTypes[].count", -2),
			want: fe("errorMetrics.errorTypes[0].count", "-2", countRange)},
		{name: "non-integer count", kind: ModelMetrics, rec: set(validModel(), "safetyMetrics.violationCount", 1.5),
			want: fe("safetyMetrics.violationCount", "1.5", "must be an integer")},
		{name: "non-integer retention", kind: Events, rec: set(validEvent(), "dataRetentionDays", 30.5),
			want: fe("dataRetentionDays", "30.5", "must be an integer")},
		{name: "retention zero", kind: Events, rec: set(validEvent(), "dataRetentionDays", 0),
			want: fe("dataRetentionDays", "0", "must be between 1 and 36500")},
		{name: "non-integer sample size", kind: BusinessMetrics, rec: set(validBusiness(), "sampleSize", 10.25),
			want: fe("sampleSize", "10.25", "must be an integer")},
		{name: "integer written as float", kind: SystemMetrics, rec: set(validSystem(), "errorMetrics.errorCount", 27.0),
			want: nil},
		{name: "not finite", kind: Events, rec: nil, raw: func([]byte) []byte {
			return bytes.Replace(mustJSON(validEvent()), []byte(`"value":12.5`), []byte(`"value":1e999`), 1)
		}, want: fe("properties.value", "1e999", "not a finite number")},

		// Timestamps.
		{name: "seconds", kind: Events, rec: set(validEvent(), "timestamp", nowMS/1000),
			want: fe("timestamp", "1760011200", "looks like seconds or a date before 1973; timestamps are epoch milliseconds")},
		{name: "seconds metrics", kind: SystemMetrics, rec: set(validSystem(), "timestamp", tSnap/1000),
			want: fe("timestamp", strconv.FormatInt(tSnap/1000, 10), "looks like seconds or a date before 1973; timestamps are epoch milliseconds")},
		{name: "negative time", kind: ModelMetrics, rec: set(validModel(), "evaluationPeriod.startTime", -5),
			want: fe("evaluationPeriod.startTime", "-5", "must be a positive epoch time in milliseconds")},
		{name: "future", kind: Events, rec: set(del(validEvent(), "behavior.timestamp"), "timestamp", nowMS+5*minute+1),
			want: fe("timestamp", strconv.FormatInt(nowMS+5*minute+1, 10), "is more than 5m0s ahead of the server's clock")},
		{name: "future at skew", kind: Events, rec: set(del(validEvent(), "behavior.timestamp"), "timestamp", nowMS+5*minute),
			want: nil},
		{name: "future custom skew", kind: BusinessMetrics, opts: Options{MaxFutureSkew: time.Second}, rec: set(validBusiness(), "timestamp", nowMS+2000),
			want: fe("timestamp", strconv.FormatInt(nowMS+2000, 10), "is more than 1s ahead of the server's clock")},
		{name: "future response", kind: Recommendations, rec: set(validResponse(), "responseTimestamp", nowMS+hour),
			want: fe("responseTimestamp", strconv.FormatInt(nowMS+hour, 10), "is more than 5m0s ahead of the server's clock")},
		{name: "older than dataRetentionDays", kind: Events, rec: set(set(del(validEvent(), "behavior.timestamp"), "dataRetentionDays", 30), "timestamp", nowMS-31*day),
			want: fe("timestamp", strconv.FormatInt(nowMS-31*day, 10), "is older than the retention period of 30 days")},
		{name: "within dataRetentionDays", kind: Events, rec: set(set(del(validEvent(), "behavior.timestamp"), "dataRetentionDays", 30), "timestamp", nowMS-29*day),
			want: nil},
		{name: "dataRetentionDays over default", kind: Events, rec: set(set(del(validEvent(), "behavior.timestamp"), "dataRetentionDays", 3650), "timestamp", nowMS-1000*day),
			want: nil},
		{name: "older than one day", kind: Events, rec: set(set(del(validEvent(), "behavior.timestamp"), "dataRetentionDays", 1), "timestamp", nowMS-day-1),
			want: fe("timestamp", strconv.FormatInt(nowMS-day-1, 10), "is older than the retention period of 1 day")},
		{name: "older than default retention", kind: ModelMetrics,
			rec: set(set(set(validModel(), "timestamp", nowMS-731*day), "evaluationPeriod.startTime", nowMS-732*day), "evaluationPeriod.endTime", nowMS-731*day),
			want: []FieldError{
				{Field: "timestamp", Value: strconv.FormatInt(nowMS-731*day, 10), Reason: "is older than the retention period of 730 days"},
			}},
		{name: "older than custom retention", kind: Recommendations, opts: Options{DefaultRetention: 48 * time.Hour},
			rec: set(set(validRecommendation(), "timestamp", nowMS-3*day), "responseTimestamp", nowMS-3*day+1000),
			want: []FieldError{
				{Field: "timestamp", Value: strconv.FormatInt(nowMS-3*day, 10), Reason: "is older than the retention period of 2 days"},
				{Field: "responseTimestamp", Value: strconv.FormatInt(nowMS-3*day+1000, 10), Reason: "is older than the retention period of 2 days"},
			}},

		{name: "snapshot at max_snapshot_age", kind: BusinessMetrics,
			rec:  set(set(set(validBusiness(), "timestamp", nowMS-7*day), "periodStart", nowMS-8*day), "periodEnd", nowMS-7*day),
			want: nil},
		{name: "snapshot older than max_snapshot_age", kind: BusinessMetrics,
			rec:  set(set(set(validBusiness(), "timestamp", nowMS-7*day-1), "periodStart", nowMS-8*day), "periodEnd", nowMS-7*day-1),
			want: fe("timestamp", strconv.FormatInt(nowMS-7*day-1, 10), "is older than max_snapshot_age (168h0m0s): the store cannot take it")},
		{name: "system snapshot older than custom max_snapshot_age", kind: SystemMetrics, opts: Options{MaxSnapshotAge: time.Hour},
			rec:  set(set(set(validSystem(), "timestamp", nowMS-hour-1), "timeWindow.start", nowMS-2*hour), "timeWindow.end", nowMS-hour-1),
			want: fe("timestamp", strconv.FormatInt(nowMS-hour-1, 10), "is older than max_snapshot_age (1h0m0s): the store cannot take it")},
		{name: "model snapshot within custom max_snapshot_age", kind: ModelMetrics, opts: Options{MaxSnapshotAge: time.Hour},
			rec:  set(set(set(validModel(), "timestamp", nowMS-hour), "evaluationPeriod.startTime", nowMS-2*hour), "evaluationPeriod.endTime", nowMS-hour),
			want: nil},

		// Unknown and duplicate fields.
		{name: "unknown root", kind: Events, rec: set(validEvent(), "favorite_color", "blue"),
			want: fe("favorite_color", "", "unknown field")},
		{name: "unknown camelCase", kind: Events, rec: set(validEvent(), "favoriteColor", "blue"),
			want: fe("<field name of 13 bytes>", "", "unknown field")},
		{name: "unknown nested", kind: Events, rec: set(validEvent(), "behavior.pageData.color", "blue"),
			want: fe("behavior.pageData.color", "", "unknown field")},
		{name: "unknown non-token name", kind: SystemMetrics, rec: set(validSystem(), "cpu load %", 3),
			want: fe("<field name of 10 bytes>", "", "unknown field")},
		{name: "unknown in array element", kind: SystemMetrics, rec: set(validSystem(), "errorMetrics.errorTypes[].code", 500),
			want: fe("errorMetrics.errorTypes[0].code", "", "unknown field")},
		{name: "server field on metrics", kind: ModelMetrics, rec: set(validModel(), "isValid", true),
			want: fe("<field name of 7 bytes>", "", "unknown field")},
		{name: "duplicate root", kind: Events, rec: validEvent(), raw: insertAfter(`{`, `"eventId":"evt-0001",`),
			want: fe("eventId", "", "duplicate field")},
		{name: "duplicate nested", kind: Events, rec: validEvent(), raw: insertAfter(`"pageData":{`, `"path":"/other",`),
			want: fe("behavior.pageData.path", "", "duplicate field")},
		{name: "duplicate by escape", kind: BusinessMetrics, rec: validBusiness(), raw: insertAfter(`{`, `"val\u0075e":1,`),
			want: fe("value", "", "duplicate field")},
		{name: "duplicate in array element", kind: SystemMetrics, rec: validSystem(), raw: insertAfter(`"errorTypes":[{`, `"count":1,`),
			want: fe("errorMetrics.errorTypes[0].count", "", "duplicate field")},

		// Invalid UTF-8.
		{name: "utf8 string", kind: Events, rec: set(validEvent(), "category", badUTF8),
			want: fe("category", "<string of 6 bytes>", "not valid UTF-8")},
		{name: "utf8 enum", kind: Events, rec: set(validEvent(), "consentLevel", badUTF8),
			want: fe("consentLevel", "<string of 6 bytes>", "not valid UTF-8")},
		{name: "utf8 array element", kind: Recommendations, rec: set(validRecommendation(), "recommendationData.personalizedFactors", []any{"ok", badUTF8}),
			want: fe("recommendationData.personalizedFactors[1]", "<string of 6 bytes>", "not valid UTF-8")},
		{name: "utf8 metadata", kind: Events, rec: set(validEvent(), "properties.metadata", rec{"k": []any{badUTF8}}),
			want: fe("properties.metadata", "", "holds a string that is not valid UTF-8")},
		{name: "utf8 metadata key", kind: Events, rec: validEvent(), raw: insertAfter(`"metadata":{`, "\"\xff\":1,"),
			want: fe("properties.metadata", "", "holds a field name that is too long or not valid UTF-8")},
		{name: "utf8 dimension", kind: SystemMetrics, rec: set(validSystem(), "errorMetrics.errorTypes[].type", badUTF8),
			want: fe("errorMetrics.errorTypes[0].type", "<string of 6 bytes>", "not valid UTF-8")},

		// Lengths.
		{name: "string too long", kind: Events, opts: Options{MaxStringLength: 16}, rec: set(validEvent(), "userAgent", strings.Repeat("a", 17)),
			want: fe("userAgent", "<string of 17 bytes>", "longer than 16 bytes")},
		{name: "string at limit", kind: Events, opts: Options{MaxStringLength: 31}, rec: validEvent(), want: nil},
		{name: "string too long default", kind: BusinessMetrics, rec: set(validBusiness(), "metricName", strings.Repeat("é", 4097)),
			want: fe("metricName", "<string of 8194 bytes>", "longer than 8192 bytes")},
		{name: "metadata string too long", kind: Events, opts: Options{MaxStringLength: 40}, rec: set(validEvent(), "properties.metadata", rec{"s": strings.Repeat("x", 41)}),
			want: fe("properties.metadata", "", "holds a string longer than 40 bytes")},
		{name: "array too long", kind: Events, opts: Options{MaxArrayLength: 3}, rec: set(validEvent(), "behavior.conversionData.previousSteps", []any{"a", "b", "c", "d"}),
			want: fe("behavior.conversionData.previousSteps", "<array>", "more than 3 elements")},
		{name: "array at limit", kind: Events, opts: Options{MaxArrayLength: 3}, rec: set(validEvent(), "behavior.conversionData.previousSteps", []any{"a", "b", "c"}),
			want: nil},
		{name: "objects too long", kind: SystemMetrics, opts: Options{MaxArrayLength: 1}, rec: validSystem(),
			want: fe("errorMetrics.errorTypes", "<array>", "more than 1 elements")},
		{name: "items too long", kind: Recommendations, opts: Options{MaxArrayLength: 2}, rec: set(validRecommendation(), "recommendationData.items", []any{1, 2, 3}),
			want: fe("recommendationData.items", "", "holds an array of more than 2 elements")},
		{name: "metadata too deep", kind: Events, opts: Options{MaxDepth: 3}, rec: set(validEvent(), "properties.metadata", deep(5)),
			want: fe("properties.metadata", "", "nested deeper than 3 levels")},
		{name: "metadata too deep default", kind: Events, rec: set(validEvent(), "properties.metadata", deep(12)),
			want: fe("properties.metadata", "", "nested deeper than 8 levels")},
		{name: "items too deep", kind: Recommendations, opts: Options{MaxDepth: 2}, rec: set(validRecommendation(), "recommendationData.items", []any{[]any{[]any{[]any{1}}}}),
			want: fe("recommendationData.items", "", "nested deeper than 2 levels")},

		// Cross-field rules.
		{name: "behavior session", kind: Events, rec: set(validEvent(), "behavior.sessionId", "sess-43"),
			want: fe("behavior.sessionId", "<string of 7 bytes>", "must equal the event's sessionId")},
		{name: "behavior event id", kind: Events, rec: set(validEvent(), "behavior.eventId", "evt-0002"),
			want: fe("behavior.eventId", "<string of 8 bytes>", "must equal the event's eventId")},
		{name: "behavior user without event user", kind: Events, rec: del(validEvent(), "userId"),
			want: fe("behavior.userId", "<string of 6 bytes>", "must equal the event's userId")},
		{name: "behavior timestamp", kind: Events, rec: set(validEvent(), "behavior.timestamp", tEvent+1),
			want: fe("behavior.timestamp", strconv.FormatInt(tEvent+1, 10), "must equal the event's timestamp")},
		{name: "response before recommendation", kind: Recommendations, rec: set(validRecommendation(), "responseTimestamp", tRec-1),
			want: fe("responseTimestamp", strconv.FormatInt(tRec-1, 10), "must not be before timestamp")},
		{name: "response at recommendation", kind: Recommendations, rec: set(validRecommendation(), "responseTimestamp", tRec),
			want: nil},
		{name: "evaluation end before start", kind: ModelMetrics, rec: set(validModel(), "evaluationPeriod.endTime", tSnap-2*hour),
			want: fe("evaluationPeriod.endTime", strconv.FormatInt(tSnap-2*hour, 10), "must not be before evaluationPeriod.startTime")},
		{name: "period end before start", kind: BusinessMetrics, rec: set(validBusiness(), "periodEnd", nowMS-2*day),
			want: fe("periodEnd", strconv.FormatInt(nowMS-2*day, 10), "must not be before periodStart")},
		{name: "window end before start", kind: SystemMetrics, rec: set(validSystem(), "timeWindow.end", tSnap-6*minute),
			want: fe("timeWindow.end", strconv.FormatInt(tSnap-6*minute, 10), "must not be before timeWindow.start")},
		{name: "timestamp before evaluation start", kind: ModelMetrics, rec: set(validModel(), "evaluationPeriod.startTime", tSnap+1),
			want: []FieldError{
				{Field: "evaluationPeriod.endTime", Value: strconv.FormatInt(tSnap, 10), Reason: "must not be before evaluationPeriod.startTime"},
				{Field: "timestamp", Value: strconv.FormatInt(tSnap, 10), Reason: "must not be before evaluationPeriod.startTime"},
			}},
		{name: "timestamp before period start", kind: BusinessMetrics, rec: set(validBusiness(), "timestamp", nowMS-day-1),
			want: fe("timestamp", strconv.FormatInt(nowMS-day-1, 10), "must not be before periodStart")},
		{name: "timestamp before window start", kind: SystemMetrics, rec: set(validSystem(), "timestamp", tSnap-6*minute),
			want: fe("timestamp", strconv.FormatInt(tSnap-6*minute, 10), "must not be before timeWindow.start")},
		{name: "duplicate error type", kind: SystemMetrics,
			rec:  set(validSystem(), "errorMetrics.errorTypes", []any{rec{"type": "timeout", "count": 1}, rec{"type": "db", "count": 2}, rec{"type": "timeout", "count": 3}}),
			want: fe("errorMetrics.errorTypes[2].type", "", "duplicate type; entry 0 has the same one")},
		{name: "items not an array", kind: Recommendations, rec: set(validRecommendation(), "recommendationData.items", rec{"id": "w-1"}),
			want: fe("recommendationData.items", "<object>", "must be an array, not an object")},
		{name: "neither data nor response", kind: Recommendations, rec: del(validResponse(), "userResponse"),
			want: fe("recommendationData", "", "required field is missing (send recommendationData, or userResponse for an earlier recommendationId)")},
		{name: "later response without its time", kind: Recommendations, rec: del(validResponse(), "responseTimestamp"),
			want: fe("responseTimestamp", "", "required field is missing (a later userResponse needs its responseTimestamp)")},
		{name: "full record without model", kind: Recommendations, rec: del(del(validRecommendation(), "modelId"), "context"),
			want: []FieldError{
				{Field: "modelId", Reason: "required field is missing (a record with recommendationData is a full recommendation)"},
				{Field: "context", Reason: "required field is missing (a record with recommendationData is a full recommendation)"},
			}},
	}
}

func TestFieldRules(t *testing.T) {
	for _, tt := range ruleCases() {
		t.Run(tt.kind.String()+"/"+tt.name, func(t *testing.T) {
			var body []byte
			if tt.rec != nil {
				body = mustJSON(tt.rec)
			}
			if tt.raw != nil {
				body = tt.raw(body)
			}
			res := decode(t, tt.opts, tt.kind, body)
			if tt.want == nil {
				if res.Accepted != 1 || len(res.Rejected) != 0 {
					t.Fatalf("want accepted; Accepted=%d Rejected=%+v", res.Accepted, res.Rejected)
				}
				return
			}
			if res.Accepted != 0 || len(res.Rejected) != 1 || res.Rejected[0].Index != 0 {
				t.Fatalf("want one rejection at index 0; Accepted=%d Rejected=%+v", res.Accepted, res.Rejected)
			}
			if got := res.Rejected[0].Errors; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n got %+v\nwant %+v", got, tt.want)
			}
			if res.Items != 0 {
				t.Errorf("Items = %d for a rejected event", res.Items)
			}
			if tt.kind.IsLogs() && res.Logs.LogRecordCount() != 0 {
				t.Errorf("a rejected event produced %d log records", res.Logs.LogRecordCount())
			}
			if !tt.kind.IsLogs() && res.Metrics.DataPointCount() != 0 {
				t.Errorf("a rejected snapshot produced %d data points", res.Metrics.DataPointCount())
			}
		})
	}
}

// MaxDepth counts levels as docs/events.md defines them: the free-form value
// is level 1 and every value inside an object or array one level deeper, so
// {"a":{"b":1}} reaches level 3.
func TestMaxDepthBoundary(t *testing.T) {
	body := mustJSON(set(validEvent(), "properties.metadata", rec{"a": rec{"b": 1}}))
	if res := decode(t, Options{MaxDepth: 3}, Events, body); res.Accepted != 1 {
		t.Errorf("level 3 with MaxDepth 3: %+v", res.Rejected)
	}
	res := decode(t, Options{MaxDepth: 2}, Events, body)
	if want := fe("properties.metadata", "", "nested deeper than 2 levels"); res.Accepted != 0 || !reflect.DeepEqual(res.Rejected[0].Errors, want) {
		t.Errorf("level 3 with MaxDepth 2: Accepted=%d %+v", res.Accepted, res.Rejected)
	}
	if res := decode(t, Options{MaxDepth: 1}, Events, mustJSON(set(validEvent(), "properties.metadata", "flat"))); res.Accepted != 1 {
		t.Errorf("a scalar with MaxDepth 1: %+v", res.Rejected)
	}
}

// One bad event does not reject its good neighbours, and rejections carry
// the index of the event in the request.
func TestBatchPartialAcceptance(t *testing.T) {
	t.Run("events", func(t *testing.T) {
		bad := set(validEvent(), "platform", "windows")
		good3 := set(set(validEvent(), "eventId", "evt-0003"), "behavior.eventId", "evt-0003")
		body := mustJSON(rec{"events": []any{validEvent(), bad, good3, "not an event", set(validEvent(), "timestamp", nowMS/1000)}})
		res := decode(t, Options{}, Events, body)
		if res.Accepted != 2 || res.Items != 2 {
			t.Fatalf("Accepted=%d Items=%d, want 2", res.Accepted, res.Items)
		}
		var idx []int
		for _, r := range res.Rejected {
			idx = append(idx, r.Index)
		}
		if !reflect.DeepEqual(idx, []int{1, 3, 4}) {
			t.Fatalf("rejected indexes %v, want [1 3 4]", idx)
		}
		if got := res.Rejected[0].Errors; !reflect.DeepEqual(got, fe("platform", `"windows"`, "must be one of web, ios, android")) {
			t.Errorf("errors of event 1: %+v", got)
		}
		var ids []string
		for _, lr := range logRecords(res.Logs) {
			v, _ := lr.Attributes().Get(schema.AttrEventID)
			ids = append(ids, v.Str())
		}
		if !reflect.DeepEqual(ids, []string{"evt-0001", "evt-0003"}) {
			t.Errorf("accepted event ids %v", ids)
		}
	})
	t.Run("system-metrics", func(t *testing.T) {
		other := set(validSystem(), "serviceName", "worker")
		body := mustJSON(rec{"metrics": []any{set(validSystem(), "availability.uptime", 101), other}})
		res := decode(t, Options{}, SystemMetrics, body)
		if res.Accepted != 1 || len(res.Rejected) != 1 || res.Rejected[0].Index != 0 {
			t.Fatalf("Accepted=%d Rejected=%+v", res.Accepted, res.Rejected)
		}
		if res.Metrics.ResourceMetrics().Len() != 1 {
			t.Fatalf("%d resources", res.Metrics.ResourceMetrics().Len())
		}
		v, _ := res.Metrics.ResourceMetrics().At(0).Resource().Attributes().Get("service.name")
		if v.Str() != "worker" {
			t.Errorf("service.name = %q, want the accepted snapshot's", v.Str())
		}
	})
}

// At most 20 errors are listed per event, then a count of the rest.
func TestErrorsPerEventCapped(t *testing.T) {
	r := validEvent()
	for i := range 25 {
		r[fmt.Sprintf("extra_%c", 'a'+i)] = i
	}
	res := decode(t, Options{}, Events, mustJSON(r))
	errs := res.Rejected[0].Errors
	if len(errs) != 21 {
		t.Fatalf("%d errors, want 20 and a summary", len(errs))
	}
	if last := errs[20]; last != (FieldError{Reason: "5 more errors not shown"}) {
		t.Errorf("summary = %+v", last)
	}
}

func attrOf(t *testing.T, m pcommon.Map, key string) pcommon.Value {
	t.Helper()
	v, ok := m.Get(key)
	if !ok {
		t.Fatalf("attribute %q missing; have %v", key, m.AsRaw())
	}
	return v
}

// Fields only the server may set are ignored when a client sends them.
func TestServerOwnedFieldsOverwritten(t *testing.T) {
	server := rec{
		"isValid": false, "processingStatus": "failed", "qualityScore": 3,
		"isAnonymized": true, "serverTimestamp": nowMS - 100*day,
	}
	oddTypes := rec{
		"isValid": "no", "processingStatus": 7, "qualityScore": "x",
		"isAnonymized": nil, "serverTimestamp": rec{"a": 1},
	}
	for _, k := range []Kind{Events, Recommendations} {
		for name, fields := range map[string]rec{"seed types": server, "other types": oddTypes} {
			t.Run(k.String()+"/"+name, func(t *testing.T) {
				r := validFor(k)
				for f, v := range fields {
					r[f] = v
				}
				res := decode(t, Options{}, k, mustJSON(r))
				if res.Accepted != 1 {
					t.Fatalf("rejected: %+v", res.Rejected)
				}
				lr := logRecords(res.Logs)[0]
				attrs := lr.Attributes()
				if v := attrOf(t, attrs, schema.AttrIsValid); v.Type() != pcommon.ValueTypeBool || !v.Bool() {
					t.Errorf("%s = %v, want true", schema.AttrIsValid, v.AsRaw())
				}
				if v := attrOf(t, attrs, schema.AttrProcessingStatus); v.Str() != "processed" {
					t.Errorf("%s = %v, want processed", schema.AttrProcessingStatus, v.AsRaw())
				}
				if v := attrOf(t, attrs, schema.AttrIsAnonymized); v.Type() != pcommon.ValueTypeBool || v.Bool() {
					t.Errorf("%s = %v, want false", schema.AttrIsAnonymized, v.AsRaw())
				}
				// Every optional field of the fixtures is present.
				if v := attrOf(t, attrs, schema.AttrQualityScore); v.Type() != pcommon.ValueTypeDouble || v.Double() != 100 {
					t.Errorf("%s = %v, want the server's 100.0", schema.AttrQualityScore, v.AsRaw())
				}
				if got := lr.ObservedTimestamp().AsTime(); !got.Equal(testNow) {
					t.Errorf("ObservedTimestamp = %v, want now %v", got, testNow)
				}
				for _, f := range []string{"isValid", "processingStatus", "qualityScore", "isAnonymized", "serverTimestamp"} {
					if _, ok := attrs.Get(f); ok {
						t.Errorf("client field %q copied as an attribute", f)
					}
				}
			})
		}
	}
}

func TestQualityScore(t *testing.T) {
	// 7 optional fields count: userId, userAgent, page, feature, value,
	// duration, behavior. Drop three.
	r := del(del(del(validEvent(), "userAgent"), "properties.feature"), "properties.value")
	res := decode(t, Options{}, Events, mustJSON(r))
	v := attrOf(t, logRecords(res.Logs)[0].Attributes(), schema.AttrQualityScore)
	if want := 400.0 / 7; v.Double() != want {
		t.Errorf("quality score %v, want %v", v.Double(), want)
	}
}

func TestEventRecord(t *testing.T) {
	res := decode(t, Options{}, Events, mustJSON(validEvent()))
	rl := res.Logs.ResourceLogs().At(0)
	if got := rl.Resource().Attributes().AsRaw(); !reflect.DeepEqual(got, map[string]any{schema.ResourcePlatform: "web", schema.ResourceAppVersion: "3.4.1"}) {
		t.Errorf("resource = %v", got)
	}
	if got := rl.ScopeLogs().At(0).Scope().Name(); got != ScopeName {
		t.Errorf("scope = %q", got)
	}
	lr := rl.ScopeLogs().At(0).LogRecords().At(0)
	if lr.EventName() != schema.EventAnalytics {
		t.Errorf("EventName = %q", lr.EventName())
	}
	if got := lr.Timestamp().AsTime(); !got.Equal(time.UnixMilli(tEvent)) {
		t.Errorf("Timestamp = %v", got)
	}
	a := lr.Attributes()
	checks := map[string]any{
		schema.AttrEventID:                 "evt-0001",
		schema.AttrSessionID:               "sess-42",
		schema.AttrUserID:                  "user-7",
		schema.AttrDeviceID:                "dev-abc",
		schema.AttrEventType:               "user_action",
		schema.AttrValue:                   12.5,
		schema.AttrDuration:                float64(3400),
		schema.AttrDataRetentionDays:       int64(90),
		schema.AttrMetadata:                map[string]any{"experiment": "b", "cohort": int64(3)},
		schema.AttrBehaviorType:            "navigation",
		schema.AttrPageScrollDep:           float64(65),
		schema.AttrPageExit:                false,
		schema.AttrInteractionClickX:       float64(10),
		schema.AttrInteractionClickY:       20.5,
		schema.AttrInteractionCount:        int64(2),
		schema.AttrEngagementShared:        true,
		schema.AttrConversionPreviousSteps: []any{"pricing", "checkout"},
	}
	for k, want := range checks {
		if got := attrOf(t, a, k).AsRaw(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", k, got, want)
		}
	}
	// 39 fields and 4 server-owned attributes; the behaviour's copies of the
	// event's identifiers and timestamp are not repeated.
	if a.Len() != 43 {
		t.Errorf("%d attributes: %v", a.Len(), a.AsRaw())
	}
}

func TestRecommendationForms(t *testing.T) {
	t.Run("full", func(t *testing.T) {
		res := decode(t, Options{}, Recommendations, mustJSON(validRecommendation()))
		lr := logRecords(res.Logs)[0]
		if lr.EventName() != schema.EventRecommendation {
			t.Errorf("EventName = %q", lr.EventName())
		}
		if got := lr.Timestamp().AsTime(); !got.Equal(time.UnixMilli(tRec)) {
			t.Errorf("Timestamp = %v, want timestamp", got)
		}
		if got := attrOf(t, lr.Attributes(), schema.AttrResponseTimestamp).AsRaw(); got != tRec+12_500 {
			t.Errorf("%s = %v", schema.AttrResponseTimestamp, got)
		}
	})
	t.Run("later response", func(t *testing.T) {
		res := decode(t, Options{}, Recommendations, mustJSON(validResponse()))
		if res.Accepted != 1 {
			t.Fatalf("rejected: %+v", res.Rejected)
		}
		lr := logRecords(res.Logs)[0]
		if lr.EventName() != schema.EventRecommendationResponse {
			t.Errorf("EventName = %q, want %q", lr.EventName(), schema.EventRecommendationResponse)
		}
		if got := lr.Timestamp().AsTime(); !got.Equal(time.UnixMilli(tRec + 30_000)) {
			t.Errorf("Timestamp = %v, want responseTimestamp", got)
		}
		got := lr.Attributes().AsRaw()
		want := map[string]any{
			schema.AttrRecommendationID:  "rec-1",
			schema.AttrUserID:            "user-7",
			schema.AttrConsentLevel:      "analytics",
			schema.AttrResponseAction:    "accepted",
			schema.AttrResponseTime:      float64(30),
			schema.AttrResponseTimestamp: tRec + 30_000,
			schema.AttrIsValid:           true,
			schema.AttrQualityScore:      float64(50),
			schema.AttrProcessingStatus:  "processed",
			schema.AttrIsAnonymized:      false,
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("attributes\n got %v\nwant %v", got, want)
		}
	})
	t.Run("response to a full record in one batch keeps each time", func(t *testing.T) {
		body := mustJSON([]any{validRecommendation(), validResponse()})
		lrs := logRecords(decode(t, Options{}, Recommendations, body).Logs)
		if len(lrs) != 2 || lrs[0].Timestamp() == lrs[1].Timestamp() {
			t.Fatalf("records: %d", len(lrs))
		}
	})
}

// An optional null is an absent field, so null cannot satisfy what a record
// form requires, and nothing of the previous event leaks into the next.
func TestRecommendationNullIsAbsent(t *testing.T) {
	cases := []struct {
		name     string
		rec      rec
		response bool // accepted as a later response; else rejected
	}{
		{name: "full record, timestamp null", rec: set(validRecommendation(), "timestamp", nil)},
		{name: "full record, modelId null", rec: set(validRecommendation(), "modelId", nil)},
		{name: "full record, context null", rec: set(validRecommendation(), "context", nil)},
		{name: "response, responseTimestamp null", rec: set(validResponse(), "responseTimestamp", nil)},
		{name: "response, userResponse null", rec: set(validResponse(), "userResponse", nil)},
		{name: "recommendationData null, no response", rec: del(set(validRecommendation(), "recommendationData", nil), "userResponse")},
		{name: "recommendationData null with a response", rec: set(validRecommendation(), "recommendationData", nil), response: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A good record first: its values must not leak into the next.
			body := mustJSON([]any{validRecommendation(), c.rec})
			res := decode(t, Options{}, Recommendations, body)
			if c.response {
				lrs := logRecords(res.Logs)
				if res.Accepted != 2 || lrs[1].EventName() != schema.EventRecommendationResponse ||
					!lrs[1].Timestamp().AsTime().Equal(time.UnixMilli(tRec+12_500)) {
					t.Fatalf("want a later response at responseTimestamp; Accepted=%d Rejected=%+v", res.Accepted, res.Rejected)
				}
				return
			}
			if res.Accepted == 2 {
				lr := logRecords(res.Logs)[1]
				t.Fatalf("accepted as %q with Timestamp %v", lr.EventName(), lr.Timestamp().AsTime())
			}
			if res.Accepted != 1 || len(res.Rejected) != 1 || res.Rejected[0].Index != 1 {
				t.Fatalf("Accepted=%d Rejected=%+v", res.Accepted, res.Rejected)
			}
		})
	}
}

// Start times are epoch milliseconds like any other time; a value past what
// pcommon.Timestamp holds (year 2262) must not wrap around.
func TestStartTimeBounds(t *testing.T) {
	for _, ms := range []int64{9_300_000_000_000, 9_000_000_000_000_000} {
		r := set(set(validBusiness(), "periodStart", ms), "periodEnd", ms)
		res := decode(t, Options{}, BusinessMetrics, mustJSON(r))
		if res.Accepted == 0 {
			continue
		}
		m, _ := findMetric(res.Metrics, "pulse.business.value")
		start := m.Gauge().DataPoints().At(0).StartTimestamp()
		if int64(start) < 0 || int64(start)/1e6 != ms {
			t.Errorf("periodStart=periodEnd=%d accepted with StartTimestamp %d (%v)", ms, uint64(start), start.AsTime())
		}
	}
}

// A key sent twice is a duplicate whatever the values, null included.
func TestDuplicateWithNull(t *testing.T) {
	for _, dup := range []string{`"userId":null,`, `"userAgent":null,`} {
		body := insertAfter("{", dup)(mustJSON(validEvent()))
		res := decode(t, Options{}, Events, body)
		if res.Accepted == 1 {
			t.Fatalf("{%s ...} followed by the same key with a value was accepted", dup)
		}
		name, _, _ := strings.Cut(strings.Trim(dup, `",`), `"`)
		if want := fe(name, "", "duplicate field"); !reflect.DeepEqual(res.Rejected[0].Errors[:1], want) {
			t.Errorf("%s: %+v", dup, res.Rejected)
		}
	}
}

// NaN is not JSON; fastjson accepts it as a number.
func TestNaNRejected(t *testing.T) {
	cases := []struct {
		kind Kind
		rec  rec
		path string
	}{
		{Events, validEvent(), `"value":12.5`},
		{Events, validEvent(), `"cohort":3`},
		{BusinessMetrics, validBusiness(), `"periodStart":` + strconv.FormatInt(nowMS-day, 10)},
		{ModelMetrics, validModel(), `"startTime":` + strconv.FormatInt(tSnap-hour, 10)},
		{SystemMetrics, validSystem(), `"start":` + strconv.FormatInt(tSnap-5*minute, 10)},
	}
	for _, c := range cases {
		t.Run(c.kind.String()+"/"+c.path, func(t *testing.T) {
			body := mustJSON(c.rec)
			name, _, _ := strings.Cut(c.path, ":")
			nan := bytes.Replace(body, []byte(c.path), []byte(name+":NaN"), 1)
			if bytes.Equal(nan, body) {
				t.Fatal("path not found")
			}
			res, err := New(Options{}).Decode(c.kind, nan, testNow)
			if err != nil || res.Accepted == 0 {
				return // refused as malformed, or the event rejected
			}
			t.Errorf("%s set to NaN was accepted", name)
		})
	}
}

func TestRequestErrors(t *testing.T) {
	many := func(n int) []byte {
		evs := make([]any, n)
		for i := range evs {
			evs[i] = validEvent()
		}
		return mustJSON(evs)
	}
	deepArray := strings.Repeat("[", 400) + strings.Repeat("]", 400)
	tests := []struct {
		name string
		kind Kind
		opts Options
		body string
		want error
		msg  string // substring of the message
	}{
		{name: "malformed", kind: Events, body: `{"eventId":"e1",}`, want: ErrMalformed, msg: "at byte offset 17"},
		{name: "truncated", kind: Recommendations, body: `[{"recommendationId":"r`, want: ErrMalformed, msg: "at byte offset 23"},
		{name: "trailing data", kind: SystemMetrics, body: `{} {}`, want: ErrMalformed, msg: "at byte offset 4"},
		{name: "empty body", kind: ModelMetrics, body: ``, want: ErrMalformed},
		{name: "too deep to parse", kind: Events, body: deepArray, want: ErrMalformed, msg: "nested deeper than 300 levels"},
		{name: "number body", kind: Events, body: `42`, want: ErrShape},
		{name: "string body", kind: BusinessMetrics, body: `"metrics"`, want: ErrShape},
		{name: "null body", kind: Recommendations, body: `null`, want: ErrShape},
		{name: "wrapper not array", kind: Events, body: `{"events": 5}`, want: ErrShape, msg: `"events" must be an array`},
		{name: "metrics wrapper object", kind: ModelMetrics, body: `{"metrics": {}}`, want: ErrShape},
		{name: "empty array", kind: Events, body: `[]`, want: ErrEmpty},
		{name: "empty wrapper", kind: SystemMetrics, body: `{"metrics":[]}`, want: ErrEmpty},
		{name: "too many", kind: Events, opts: Options{MaxEvents: 2}, body: string(many(3)), want: ErrTooManyEvents, msg: "3 events, the limit is 2"},
		{name: "default limit", kind: Events, body: string(many(DefaultMaxEvents + 1)), want: ErrTooManyEvents},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := New(tt.opts).Decode(tt.kind, []byte(tt.body), testNow)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if res != nil {
				t.Errorf("a result with a request error: %+v", res)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
		})
	}
	// At the limit is fine.
	if res := decode(t, Options{MaxEvents: 2}, Events, many(2)); res.Accepted != 2 {
		t.Errorf("2 events with MaxEvents 2: %+v", res.Rejected)
	}
}

// Planted personal data must never come back in an error: rejections and
// request errors are logged and returned to clients.
var planted = []string{
	"jane.doe@example.com",
	"+1 (555) 867-5309",
	"4111 1111 1111 1111",
	"Jane Q. Doe",
}

// fieldPaths lists every field of an endpoint with its kind; "[]" marks the
// first element of an array of objects.
func fieldPaths(o *object, prefix string) map[string]kind {
	out := map[string]kind{}
	for i := range o.fields {
		f := &o.fields[i]
		p := f.name
		if prefix != "" {
			p = prefix + "." + f.name
		}
		out[p] = f.kind
		switch f.kind {
		case kindObject:
			for k, v := range fieldPaths(f.obj, p) {
				out[k] = v
			}
		case kindObjects:
			for k, v := range fieldPaths(f.obj, p+"[]") {
				out[k] = v
			}
		}
	}
	return out
}

func assertNoPII(t *testing.T, what string, res *Result, err error, secrets []string) int {
	t.Helper()
	var texts []string
	if err != nil {
		texts = append(texts, err.Error())
	}
	n := 0
	if res != nil {
		for _, r := range res.Rejected {
			for _, e := range r.Errors {
				texts = append(texts, e.Field, e.Value, e.Reason)
				n++
			}
		}
	}
	for _, s := range texts {
		for _, p := range secrets {
			if strings.Contains(s, p) {
				t.Errorf("%s: %q leaks %q", what, s, p)
			}
		}
	}
	return n
}

func TestNoPIIInErrors(t *testing.T) {
	d := New(Options{MaxStringLength: 12})
	rejections := 0
	for _, k := range kinds() {
		paths := fieldPaths(specs[k].root, "")
		for path, fk := range paths {
			for _, p := range planted {
				for _, v := range []any{p, p + "\xff", []any{p}, rec{p: p}, []any{badUTF8, p}} {
					r := validFor(k)
					if hasParent(r, path) {
						set(r, path, v)
					}
					body := mustJSON(r)
					if s, ok := v.(string); ok && strings.HasSuffix(s, "\xff") {
						body = bytes.Replace(body, []byte(`\ufffd`), []byte("\xff"), 1)
					}
					res, err := d.Decode(k, body, testNow)
					rejections += assertNoPII(t, fmt.Sprintf("%s %s (%v) = %q", k, path, fk, v), res, err, planted)
				}
			}
		}
		// As unknown field names, at the root and nested, and as duplicates.
		for _, p := range planted {
			r := validFor(k)
			r[p] = p
			body := mustJSON(r)
			body = insertAfter("{", fmt.Sprintf("%q:%q,", p, p))(body)
			res, err := d.Decode(k, body, testNow)
			if n := assertNoPII(t, k.String()+" unknown "+p, res, err, planted); n == 0 {
				t.Errorf("%s: unknown field %q not rejected", k, p)
			}
			rejections++
		}
		// Duplicates of a known field holding PII.
		for _, p := range planted {
			body := insertAfter("{", fmt.Sprintf(`"timestamp":%q,`, p))(mustJSON(validFor(k)))
			res, err := d.Decode(k, body, testNow)
			rejections += assertNoPII(t, k.String()+" duplicate "+p, res, err, planted)
		}
	}
	// Inside free-form values, as keys that are too long or values that are.
	for _, p := range planted {
		r := set(validEvent(), "properties.metadata", rec{p: rec{"x": p + p}})
		res, err := d.Decode(Events, mustJSON(r), testNow)
		rejections += assertNoPII(t, "metadata "+p, res, err, planted)
	}
	// In malformed JSON.
	for _, k := range kinds() {
		for _, p := range planted {
			for _, body := range []string{
				`{"eventId":"` + p + `", ` + p + `}`,
				`[` + p + `]`,
				`{"` + p + `"}`,
				`{"userId":"` + p,
				`{"userId": "` + p + `" "` + p + `"}`,
				`{"a":1}` + p,
				p,
			} {
				res, err := d.Decode(k, []byte(body), testNow)
				if err == nil {
					t.Errorf("%s: malformed %q accepted", k, body)
				}
				assertNoPII(t, k.String()+" malformed "+body, res, err, planted)
			}
		}
	}
	if rejections < 1000 {
		t.Errorf("only %d field errors examined", rejections)
	}
}

func hasParent(r rec, path string) bool {
	parts := strings.Split(path, ".")
	m := r
	for _, p := range parts[:len(parts)-1] {
		if name, ok := strings.CutSuffix(p, "[]"); ok {
			arr, ok := m[name].([]any)
			if !ok || len(arr) == 0 {
				return false
			}
			m = arr[0].(rec)
			continue
		}
		next, ok := m[p].(rec)
		if !ok {
			return false
		}
		m = next
	}
	return true
}

// Numbers are echoed only from numeric fields and only when they have at
// most 8 digits; timestamps are echoed whatever their length.
func TestNoPIINumbersInErrors(t *testing.T) {
	secrets := []string{"4111111111111111", "15558675309"}
	for _, k := range kinds() {
		for path, fk := range fieldPaths(specs[k].root, "") {
			if fk == kindTime || fk == kindServer {
				continue
			}
			for _, n := range secrets {
				r := validFor(k)
				set(r, path, json.Number(n))
				res, err := New(Options{}).Decode(k, mustJSON(r), testNow)
				what := fmt.Sprintf("%s %s = %s", k, path, n)
				if got := assertNoPII(t, what, res, err, secrets); got == 0 && fk != kindAny && fk != kindNumber && fk != kindCount {
					t.Errorf("%s: not rejected", what)
				}
			}
		}
	}
}

// A capitalised name is not an enum token; it is never echoed.
func TestNoPIICapitalisedName(t *testing.T) {
	r := set(set(set(validEvent(), "Margaret", 1), "platform", "Margaret"), "behavior.pageData.Smith", 1)
	res, err := New(Options{}).Decode(Events, mustJSON(r), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if n := assertNoPII(t, "one-word names", res, err, []string{"Margaret", "Smith"}); n != 3 {
		t.Errorf("%d errors, want 3", n)
	}
}

// Every option falls back to its default when zero.
func TestOptionDefaults(t *testing.T) {
	got := Options{}.withDefaults()
	want := Options{
		MaxEvents: DefaultMaxEvents, MaxDepth: DefaultMaxDepth, MaxStringLength: DefaultMaxStringLength,
		MaxArrayLength: DefaultMaxArrayLength, MaxFutureSkew: DefaultMaxFutureSkew, DefaultRetention: DefaultRetentionPeriod,
		MaxSnapshotAge: DefaultMaxSnapshotAge, MaxValues: DefaultMaxValues,
	}
	if got != want {
		t.Errorf("defaults = %+v", got)
	}
}

// A Decoder is shared by the HTTP server's goroutines.
func TestConcurrentDecode(t *testing.T) {
	d := New(Options{})
	body := mustJSON([]any{validEvent(), validEvent(), set(validEvent(), "platform", "ios")})
	done := make(chan error)
	for range 8 {
		go func() {
			var err error
			for range 50 {
				res, e := d.Decode(Events, body, testNow)
				if e != nil || res.Accepted != 3 || res.Logs.ResourceLogs().Len() != 2 {
					err = fmt.Errorf("res=%+v err=%v", res, e)
					break
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// The walker remembers the key order of the previous item; items of one
// request with other orders, unknown keys and missing keys must decode
// exactly as they do alone.
func TestKeyOrderMemoChangesNothing(t *testing.T) {
	reordered := `{"timestamp":` + strconv.FormatInt(tEvent, 10) + `,"dataRetentionDays":90,"consentLevel":"full","appVersion":"1.0","platform":"ios",
		"properties":{"duration":5,"page":"/p"},"action":"a","category":"c","eventType":"user_action","deviceId":"d","sessionId":"s","eventId":"e2"}`
	unknown := `{"eventId":"e3","sessionId":"s","deviceId":"d","bogus":1,"eventType":"user_action","category":"c","action":"a",
		"platform":"web","appVersion":"1.0","consentLevel":"analytics","properties":{},"dataRetentionDays":90,"timestamp":` + strconv.FormatInt(tEvent, 10) + `}`
	missing := `{"eventId":"e4","sessionId":"s","eventType":"user_action","category":"c","action":"a",
		"platform":"web","appVersion":"1.0","consentLevel":"analytics","properties":{},"dataRetentionDays":90,"timestamp":` + strconv.FormatInt(tEvent, 10) + `}`
	first, err := json.Marshal(validEvent())
	if err != nil {
		t.Fatal(err)
	}
	items := []string{string(first), reordered, unknown, string(first), missing, reordered}
	d := New(Options{})
	batch, err := d.Decode(Events, []byte("["+strings.Join(items, ",")+"]"), testNow)
	if err != nil {
		t.Fatal(err)
	}

	var want []string
	var rejected []string
	for i, it := range items {
		alone, err := d.Decode(Events, []byte("["+it+"]"), testNow)
		if err != nil || len(alone.Rejected) > 0 {
			for _, r := range alone.Rejected {
				rejected = append(rejected, fmt.Sprintf("%d:%v", i, r.Errors))
			}
			continue
		}
		want = append(want, recordsJSON(t, alone.Logs)...)
	}
	var gotRejected []string
	for _, r := range batch.Rejected {
		gotRejected = append(gotRejected, fmt.Sprintf("%d:%v", r.Index, r.Errors))
	}
	if len(rejected) != 2 {
		t.Fatalf("the unknown key and the missing deviceId are rejected alone: %v", rejected)
	}
	if !reflect.DeepEqual(rejected, gotRejected) {
		t.Errorf("rejections in one request:\n%v\nalone:\n%v", gotRejected, rejected)
	}
	// One request groups records by resource; compare as sets.
	got := recordsJSON(t, batch.Logs)
	slices.Sort(got)
	slices.Sort(want)
	if !reflect.DeepEqual(want, got) {
		t.Errorf("records in one request:\n%v\nalone:\n%v", got, want)
	}
}

// recordsJSON renders each log record's event name, time and attributes.
func recordsJSON(t *testing.T, ld plog.Logs) []string {
	t.Helper()
	var out []string
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			lrs := rl.ScopeLogs().At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				b, err := json.Marshal([]any{rl.Resource().Attributes().AsRaw(), lr.EventName(), lr.Timestamp(), lr.Attributes().AsRaw()})
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, string(b))
			}
		}
	}
	return out
}
