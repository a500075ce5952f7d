package userkeyprocessor

import (
	"fmt"
	"math"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
		{"", 0xcca8b1faa55bd819, 25, 2073, 4},
		{"u-1", 0x9b97269379906e91, 17, 3729, 0},
		{"u-2", 0xc3bafefc85b0be83, 3, 3715, 1},
		{"u-3", 0x21fb18789d8fc986, 6, 2438, 3},
		{"d-anon-9", 0x868a06725c2aded0, 16, 3792, 6},
		{"rec-42", 0xd827bce175e56688, 8, 1672, 1},
		{"42", 0x1800e471db563430, 48, 1072, 6},
		{"4f1c2a9e8b7d6c5a4f1c2a9e8b7d6c5a", 0x99d807a709dca5ce, 14, 1486, 4},
		{"a string longer than thirty-two bytes, to use all four lanes", 0x2917943346c821c7, 7, 455, 4},
	}
	for _, g := range golden {
		d := xxhash.NewWithSeed(groupSeed)
		_, _ = d.WriteString(g.id)
		assert.Equal(t, g.hash, d.Sum64(), "xxhash64(%q, groupSeed)", g.id)
		assert.Equal(t, g.g64, groupOf(g.id, 64), "group of %q, keys 64", g.id)
		assert.Equal(t, g.g4096, groupOf(g.id, 4096), "group of %q, keys 4096", g.id)
		assert.Equal(t, g.g7, groupOf(g.id, 7), "group of %q, keys 7", g.id)
		assert.Equal(t, uint16(0), groupOf(g.id, 1), "one key: one group")
	}
}

// TestGroupIndependentOfSketches: the aggregators hash the same ids with
// unseeded xxhash64 and internal/hll takes the register from its low bits.
// The users of one group must still spread over all of them, or a shard's
// HLL fills a fraction of its registers and under-counts (the e2e run with
// seed 0 counted 12-14 % too few active users).
func TestGroupIndependentOfSketches(t *testing.T) {
	const keys = 64
	low := map[uint64]bool{}
	registers := map[uint64]bool{}
	n := 0
	for u := range 200_000 {
		id := fmt.Sprintf("%032x", u)
		if groupOf(id, keys) != 5 {
			continue
		}
		n++
		h := xxhash.Sum64String(id)
		low[h%keys] = true
		registers[h&(1<<14-1)] = true
	}
	require.Greater(t, n, 2500)
	assert.Len(t, low, keys, "the users of one group cover every value of the sketch hash's low bits")
	// n ids over 16384 registers fill 16384·(1-e^(-n/16384)) of them; with
	// a shared low 6 bits they could fill at most 256.
	want := 16384 * (1 - math.Exp(-float64(n)/16384))
	assert.InDelta(t, want, float64(len(registers)), want*0.05)
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
	assert.Equal(t, uint16(48), recordGroup(record(schema.EventAnalytics, map[string]any{"user.id": int64(42)}), 64), "42 hashes as its decimal text")
}
