package userkeyprocessor

import (
	"context"
	"fmt"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/pulse-otel/pulse/internal/schema"
)

// benchBatch is 1,000 records of 500 users (two each, far apart, as a
// gateway's batch from many clients looks) under 3 resources, with the
// attributes the analytics receiver and privacy processor leave.
func benchBatch() plog.Logs {
	ld := plog.NewLogs()
	for r, platform := range []string{"web", "ios", "android"} {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr(schema.ResourcePlatform, platform)
		rl.Resource().Attributes().PutStr(schema.ResourceAppVersion, "4.2.0")
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName("pulse.analytics")
		n := 333
		if r == 0 {
			n = 334
		}
		for i := range n {
			u := (r*333 + i) % 500
			lr := sl.LogRecords().AppendEmpty()
			lr.SetEventName(schema.EventAnalytics)
			a := lr.Attributes()
			a.PutStr(schema.AttrEventID, fmt.Sprintf("e-%d-%d", r, i))
			a.PutStr(schema.AttrUserID, fmt.Sprintf("%032x", u*7919))
			a.PutStr(schema.AttrSessionID, fmt.Sprintf("%032x", u*104729))
			a.PutStr(schema.AttrEventType, "page_view")
			a.PutStr(schema.AttrPage, "/pricing")
			a.PutStr(schema.AttrConsentLevel, "analytics")
		}
	}
	return ld
}

// BenchmarkSplit is the processor on a 1,000-record batch of 500 users
// with keys 64 (README.md, Performance), against its peer: the same batch
// passed on unsplit (keys 1: hashed, one group, no copy); keys 1024
// spreads groups more evenly over partitions but splits the batch into
// ~400 small requests. The input is copied outside the timer (records are
// moved out of it), so ns/op and allocs/op are the processor's own.
func BenchmarkSplit(b *testing.B) {
	src := benchBatch()
	for _, bc := range []struct {
		name string
		keys int
	}{{"keys=64", 64}, {"keys=1024", 1024}, {"unsplit", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			p := newTestProcessor(b, bc.keys, consumertest.NewNop())
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				ld := plog.NewLogs()
				src.CopyTo(ld)
				b.StartTimer()
				if err := p.ConsumeLogs(context.Background(), ld); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
