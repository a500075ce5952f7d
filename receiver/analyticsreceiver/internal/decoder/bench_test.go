package decoder

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/pulse-otel/pulse/internal/schema"
)

const benchEvents = 100

// benchBody is a request of 100 events of about 1 KB each: navigation and
// interaction events with properties, a small metadata object, a user agent
// and behaviour details.
func benchBody() []byte {
	evs := make([]any, benchEvents)
	for i := range evs {
		id := fmt.Sprintf("evt-%06d-4f1c9a2b", i)
		ts := nowMS - int64(benchEvents-i)*1000
		ev := rec{
			"eventId":      id,
			"sessionId":    fmt.Sprintf("sess-7d41c2e8-%03d", i%7),
			"userId":       fmt.Sprintf("user-%05d", 20815+i%13),
			"deviceId":     "dev-web-9f3a77c1",
			"eventType":    "user_action",
			"category":     "workout",
			"action":       "view",
			"userAgent":    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
			"platform":     []string{"web", "ios", "android"}[i%3],
			"appVersion":   "3.4.1",
			"consentLevel": "analytics",
			"properties": rec{
				"page": "/workouts/plan/weekly", "feature": "weekly_plan", "value": 12.5 + float64(i), "duration": 42000,
				"metadata": rec{
					"experiment": "onboarding_v3", "variant": "b", "cohort": 12,
					"tags": []any{"new_user", "trial"}, "screen": rec{"w": 1440, "h": 900},
				},
			},
			"dataRetentionDays": 395,
			"timestamp":         ts,
		}
		beh := rec{"behaviorType": "navigation", "eventId": id, "sessionId": ev["sessionId"], "timestamp": ts}
		if i%2 == 0 {
			beh["pageData"] = rec{
				"path": "/workouts/plan/weekly", "title": "Your weekly training plan",
				"referrer":   "https://www.example.com/home?utm_source=newsletter&utm_campaign=october",
				"timeOnPage": 42000, "scrollDepth": 75.5, "exitPage": false,
			}
		} else {
			ev["action"] = "start"
			beh["behaviorType"] = "interaction"
			beh["interactionData"] = rec{
				"elementType": "button", "elementId": "start-workout-primary-cta",
				"elementText":   "Start today's workout now and keep your streak",
				"clickPosition": rec{"x": 412, "y": 88.5}, "interactionCount": 1 + i%4,
			}
			ev["properties"].(rec)["feature"] = "quick_start_button_experiment"
		}
		ev["behavior"] = beh
		evs[i] = ev
	}
	return mustJSON(rec{"events": evs})
}

// benchRun times run over a 100-event body and reports per-event figures.
func benchRun(b *testing.B, body []byte, run func() (plog.Logs, error)) {
	ld, err := run()
	if err != nil {
		b.Fatal(err)
	}
	if n := ld.LogRecordCount(); n != benchEvents {
		b.Fatalf("%d log records, want %d", n, benchEvents)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := run(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	events := float64(b.N * benchEvents)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/events, "ns/event")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/events, "allocs/event")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/events, "B/event")
}

func BenchmarkDecodeEvents(b *testing.B) {
	body := benchBody()
	d := New(Options{})
	benchRun(b, body, func() (plog.Logs, error) {
		res, err := d.Decode(Events, body, testNow)
		if err != nil {
			return plog.Logs{}, err
		}
		if res.Accepted != benchEvents {
			return plog.Logs{}, fmt.Errorf("rejected: %+v", res.Rejected)
		}
		return res.Logs, nil
	})
}

// BenchmarkPlainJSONEvents is the path a developer would write first:
// encoding/json into structs that mirror the seed, a few checks, then pdata
// with the same attribute keys.
func BenchmarkPlainJSONEvents(b *testing.B) {
	body := benchBody()
	benchRun(b, body, func() (plog.Logs, error) { return plainDecode(body, testNow) })
}

// The plain path must build the same records, or the comparison is unfair.
func TestPlainPathMatchesDecoder(t *testing.T) {
	body := benchBody()
	if n := len(body) / benchEvents; n < 900 || n > 1200 {
		t.Errorf("%d bytes per event, want about 1 KB", n)
	}
	res, err := New(Options{}).Decode(Events, body, testNow)
	if err != nil || res.Accepted != benchEvents {
		t.Fatalf("decoder: %v %+v", err, res.Rejected)
	}
	plain, err := plainDecode(body, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if plain.LogRecordCount() != benchEvents || plain.ResourceLogs().Len() != res.Logs.ResourceLogs().Len() {
		t.Fatalf("plain: %d records in %d resources", plain.LogRecordCount(), plain.ResourceLogs().Len())
	}
	a, p := logRecords(res.Logs), logRecords(plain)
	for i := range a {
		if got, want := keys(p[i].Attributes()), keys(a[i].Attributes()); !slices.Equal(got, want) {
			t.Fatalf("record %d: plain keys %v, decoder keys %v", i, got, want)
		}
		if p[i].Timestamp() != a[i].Timestamp() || p[i].EventName() != a[i].EventName() {
			t.Fatalf("record %d differs", i)
		}
	}
}

func keys(m pcommon.Map) []string {
	var out []string
	for k := range m.All() {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type plainRequest struct {
	Events []plainEvent `json:"events"`
}

type plainEvent struct {
	EventID    string `json:"eventId"`
	SessionID  string `json:"sessionId"`
	UserID     string `json:"userId"`
	DeviceID   string `json:"deviceId"`
	EventType  string `json:"eventType"`
	Category   string `json:"category"`
	Action     string `json:"action"`
	Properties struct {
		Page     *string        `json:"page"`
		Feature  *string        `json:"feature"`
		Value    *float64       `json:"value"`
		Duration *float64       `json:"duration"`
		Metadata map[string]any `json:"metadata"`
	} `json:"properties"`
	UserAgent         *string        `json:"userAgent"`
	Platform          string         `json:"platform"`
	AppVersion        string         `json:"appVersion"`
	ConsentLevel      string         `json:"consentLevel"`
	DataRetentionDays float64        `json:"dataRetentionDays"`
	Timestamp         float64        `json:"timestamp"`
	Behavior          *plainBehavior `json:"behavior"`
}

type plainBehavior struct {
	BehaviorType string  `json:"behaviorType"`
	EventID      string  `json:"eventId"`
	SessionID    string  `json:"sessionId"`
	UserID       string  `json:"userId"`
	Timestamp    float64 `json:"timestamp"`
	PageData     *struct {
		Path        string   `json:"path"`
		Title       string   `json:"title"`
		Referrer    *string  `json:"referrer"`
		TimeOnPage  *float64 `json:"timeOnPage"`
		ScrollDepth *float64 `json:"scrollDepth"`
		ExitPage    *bool    `json:"exitPage"`
	} `json:"pageData"`
	InteractionData *struct {
		ElementType   string  `json:"elementType"`
		ElementID     *string `json:"elementId"`
		ElementText   *string `json:"elementText"`
		ClickPosition *struct {
			X float64 `json:"x"`
			Y float64 `json:"y"`
		} `json:"clickPosition"`
		InteractionCount *float64 `json:"interactionCount"`
	} `json:"interactionData"`
	EngagementData *struct {
		ContentType          string   `json:"contentType"`
		ContentID            *string  `json:"contentId"`
		EngagementDuration   float64  `json:"engagementDuration"`
		CompletionPercentage *float64 `json:"completionPercentage"`
		RatingGiven          *float64 `json:"ratingGiven"`
		Shared               *bool    `json:"shared"`
	} `json:"engagementData"`
	ConversionData *struct {
		GoalType       string   `json:"goalType"`
		GoalValue      *float64 `json:"goalValue"`
		FunnelStep     string   `json:"funnelStep"`
		ConversionTime float64  `json:"conversionTime"`
		PreviousSteps  []string `json:"previousSteps"`
	} `json:"conversionData"`
}

var errPlainInvalid = errors.New("invalid event")

func plainValid(ev *plainEvent, now time.Time) bool {
	if ev.EventID == "" || ev.SessionID == "" || ev.DeviceID == "" || ev.Category == "" || ev.Action == "" || ev.AppVersion == "" {
		return false
	}
	if !slices.Contains(schema.EventTypes, ev.EventType) || !slices.Contains(schema.Platforms, ev.Platform) ||
		!slices.Contains(schema.ConsentLevels, ev.ConsentLevel) {
		return false
	}
	if ev.DataRetentionDays < 1 || ev.DataRetentionDays > 36500 || ev.DataRetentionDays != math.Trunc(ev.DataRetentionDays) {
		return false
	}
	ts := time.UnixMilli(int64(ev.Timestamp))
	if ts.After(now.Add(DefaultMaxFutureSkew)) || ts.Before(now.Add(-time.Duration(ev.DataRetentionDays)*24*time.Hour)) {
		return false
	}
	if b := ev.Behavior; b != nil {
		if !slices.Contains(schema.BehaviorTypes, b.BehaviorType) || (b.SessionID != "" && b.SessionID != ev.SessionID) {
			return false
		}
	}
	return true
}

func plainDecode(body []byte, now time.Time) (plog.Logs, error) {
	var req plainRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return plog.Logs{}, err
	}
	ld := plog.NewLogs()
	type resKey struct{ platform, version string }
	byRes := map[resKey]plog.LogRecordSlice{}
	observed := pcommon.NewTimestampFromTime(now)
	for i := range req.Events {
		ev := &req.Events[i]
		if !plainValid(ev, now) {
			return plog.Logs{}, fmt.Errorf("%w at %d", errPlainInvalid, i)
		}
		k := resKey{ev.Platform, ev.AppVersion}
		lrs, ok := byRes[k]
		if !ok {
			rl := ld.ResourceLogs().AppendEmpty()
			rl.Resource().Attributes().PutStr(schema.ResourcePlatform, ev.Platform)
			rl.Resource().Attributes().PutStr(schema.ResourceAppVersion, ev.AppVersion)
			sl := rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName(ScopeName)
			lrs = sl.LogRecords()
			byRes[k] = lrs
		}
		lr := lrs.AppendEmpty()
		lr.SetEventName(schema.EventAnalytics)
		lr.SetTimestamp(pcommon.Timestamp(int64(ev.Timestamp) * 1e6))
		lr.SetObservedTimestamp(observed)
		a := lr.Attributes()
		a.PutStr(schema.AttrEventID, ev.EventID)
		a.PutStr(schema.AttrSessionID, ev.SessionID)
		present := 0
		if ev.UserID != "" {
			a.PutStr(schema.AttrUserID, ev.UserID)
			present++
		}
		a.PutStr(schema.AttrDeviceID, ev.DeviceID)
		a.PutStr(schema.AttrEventType, ev.EventType)
		a.PutStr(schema.AttrCategory, ev.Category)
		a.PutStr(schema.AttrAction, ev.Action)
		p := &ev.Properties
		if p.Page != nil {
			a.PutStr(schema.AttrPage, *p.Page)
			present++
		}
		if p.Feature != nil {
			a.PutStr(schema.AttrFeature, *p.Feature)
			present++
		}
		if p.Value != nil {
			a.PutDouble(schema.AttrValue, *p.Value)
			present++
		}
		if p.Duration != nil {
			a.PutDouble(schema.AttrDuration, *p.Duration)
			present++
		}
		if p.Metadata != nil {
			if err := a.PutEmptyMap(schema.AttrMetadata).FromRaw(p.Metadata); err != nil {
				return plog.Logs{}, err
			}
		}
		if ev.UserAgent != nil {
			a.PutStr(schema.AttrUserAgent, *ev.UserAgent)
			present++
		}
		a.PutStr(schema.AttrConsentLevel, ev.ConsentLevel)
		a.PutInt(schema.AttrDataRetentionDays, int64(ev.DataRetentionDays))
		if b := ev.Behavior; b != nil {
			present++
			a.PutStr(schema.AttrBehaviorType, b.BehaviorType)
			if pd := b.PageData; pd != nil {
				a.PutStr(schema.AttrPagePath, pd.Path)
				a.PutStr(schema.AttrPageTitle, pd.Title)
				if pd.Referrer != nil {
					a.PutStr(schema.AttrPageReferrer, *pd.Referrer)
				}
				if pd.TimeOnPage != nil {
					a.PutDouble(schema.AttrPageTimeOnPage, *pd.TimeOnPage)
				}
				if pd.ScrollDepth != nil {
					a.PutDouble(schema.AttrPageScrollDep, *pd.ScrollDepth)
				}
				if pd.ExitPage != nil {
					a.PutBool(schema.AttrPageExit, *pd.ExitPage)
				}
			}
			if id := b.InteractionData; id != nil {
				a.PutStr(schema.AttrInteractionElementType, id.ElementType)
				if id.ElementID != nil {
					a.PutStr(schema.AttrInteractionElementID, *id.ElementID)
				}
				if id.ElementText != nil {
					a.PutStr(schema.AttrInteractionElementText, *id.ElementText)
				}
				if cp := id.ClickPosition; cp != nil {
					a.PutDouble(schema.AttrInteractionClickX, cp.X)
					a.PutDouble(schema.AttrInteractionClickY, cp.Y)
				}
				if id.InteractionCount != nil {
					a.PutInt(schema.AttrInteractionCount, int64(*id.InteractionCount))
				}
			}
			if ed := b.EngagementData; ed != nil {
				a.PutStr(schema.AttrEngagementContentType, ed.ContentType)
				a.PutDouble(schema.AttrEngagementDuration, ed.EngagementDuration)
			}
			if cd := b.ConversionData; cd != nil {
				a.PutStr(schema.AttrConversionGoalType, cd.GoalType)
				a.PutStr(schema.AttrConversionFunnelStep, cd.FunnelStep)
				a.PutDouble(schema.AttrConversionTime, cd.ConversionTime)
				s := a.PutEmptySlice(schema.AttrConversionPreviousSteps)
				for _, step := range cd.PreviousSteps {
					s.AppendEmpty().SetStr(step)
				}
			}
		}
		a.PutBool(schema.AttrIsValid, true)
		a.PutDouble(schema.AttrQualityScore, float64(100*present)/7)
		a.PutStr(schema.AttrProcessingStatus, schema.ProcessingStatusProcessed)
		a.PutBool(schema.AttrIsAnonymized, false)
	}
	return ld, nil
}
