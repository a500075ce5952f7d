package userkeyprocessor

import (
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/pulse-otel/pulse/internal/schema"
)

// TestGroupGolden pins the hash: a change here re-homes every user to
// another partition. The expected hashes and groups were computed with
// testdata/xxh64.py, an implementation of the XXH64 specification that
// shares no code with the Go library (it checks the specification's own
// vectors for "" and "abc").
func TestGroupGolden(t *testing.T) {
	golden := []struct {
		id             string
		hash           uint64
		g64, g4096, g7 uint16
	}{
		{"", 0xef46db3751d8e999, 25, 2457, 6},
		{"u-1", 0x821a0434b1f1dd6a, 42, 3434, 3},
		{"u-2", 0xaa13b30ac96b9c3e, 62, 3134, 0},
		{"u-3", 0x142a6449cdb4dd2f, 47, 3375, 3},
		{"d-anon-9", 0x406a7b127aac09a4, 36, 2468, 2},
		{"rec-42", 0x2395df25d388b295, 21, 661, 1},
		{"4f1c2a9e8b7d6c5a4f1c2a9e8b7d6c5a", 0x47a8cdd975227f39, 57, 3897, 2},
		{"a string longer than thirty-two bytes, to use all four lanes", 0xa22c1dde2215f6da, 26, 1754, 4},
	}
	for _, g := range golden {
		assert.Equal(t, g.hash, xxhash.Sum64String(g.id), "xxhash64(%q)", g.id)
		assert.Equal(t, g.g64, groupOf(g.id, 64), "group of %q, keys 64", g.id)
		assert.Equal(t, g.g4096, groupOf(g.id, 4096), "group of %q, keys 4096", g.id)
		assert.Equal(t, g.g7, groupOf(g.id, 7), "group of %q, keys 7", g.id)
		assert.Equal(t, uint16(0), groupOf(g.id, 1), "one key: one group")
	}
}

func record(event string, attrs map[string]any) plog.LogRecord {
	lr := plog.NewLogRecord()
	lr.SetEventName(event)
	_ = lr.Attributes().FromRaw(attrs)
	return lr
}

func TestIdentity(t *testing.T) {
	tests := []struct {
		name   string
		event  string
		attrs  map[string]any
		want   string
		wantOK bool
	}{
		{"user first", schema.EventAnalytics, map[string]any{"user.id": "u-1", "device.id": "d-7", "session.id": "s-5"}, "u-1", true},
		{"device without user", schema.EventAnalytics, map[string]any{"device.id": "d-7", "session.id": "s-5"}, "d-7", true},
		{"session alone", schema.EventAnalytics, map[string]any{"session.id": "s-5"}, "s-5", true},
		{"none", schema.EventAnalytics, map[string]any{"pulse.page": "/home"}, "", false},
		{"recommendation by its id", schema.EventRecommendation, map[string]any{"user.id": "u-1", "pulse.recommendation.id": "rec-42"}, "rec-42", true},
		{"response by its id", schema.EventRecommendationResponse, map[string]any{"user.id": "u-2", "pulse.recommendation.id": "rec-42"}, "rec-42", true},
		{"recommendation without id falls back to user", schema.EventRecommendation, map[string]any{"user.id": "u-1"}, "u-1", true},
		{"recommendation id on another event is ignored", schema.EventAnalytics, map[string]any{"user.id": "u-1", "pulse.recommendation.id": "rec-42"}, "u-1", true},
		{"empty user falls through", schema.EventAnalytics, map[string]any{"user.id": "", "device.id": "d-7"}, "d-7", true},
		{"masked user falls through", schema.EventAnalytics, map[string]any{"user.id": "[REDACTED:email]", "device.id": "d-7"}, "d-7", true},
		{"integer user id", schema.EventAnalytics, map[string]any{"user.id": int64(42)}, "42", true},
		{"map user id is none", schema.EventAnalytics, map[string]any{"user.id": map[string]any{"a": "b"}, "session.id": "s-5"}, "s-5", true},
		{"OTLP record without event name", "", map[string]any{"user.id": "u-3"}, "u-3", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := identity(record(tt.event, tt.attrs))
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, got)
		})
	}
	assert.Equal(t, uint16(0), recordGroup(record(schema.EventAnalytics, nil), 64), "no identity: group 0")
	assert.Equal(t, uint16(57), recordGroup(record(schema.EventAnalytics, map[string]any{"user.id": int64(42)}), 64), "42 hashes as its decimal text")
}
