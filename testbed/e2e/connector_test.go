package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// sumPoints calls fn for every data point of the sum metric name that the
// sink got, in arrival order.
func (s *sink) sumPoints(name string, fn func(dp pmetric.NumberDataPoint)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, md := range s.metrics {
		rms := md.ResourceMetrics()
		for i := 0; i < rms.Len(); i++ {
			sms := rms.At(i).ScopeMetrics()
			for j := 0; j < sms.Len(); j++ {
				ms := sms.At(j).Metrics()
				for k := 0; k < ms.Len(); k++ {
					if m := ms.At(k); m.Name() == name && m.Type() == pmetric.MetricTypeSum {
						for d := 0; d < m.Sum().DataPoints().Len(); d++ {
							fn(m.Sum().DataPoints().At(d))
						}
					}
				}
			}
		}
	}
}

// latestSum returns the latest cumulative value of a sum metric, added
// over its series.
func (s *sink) latestSum(name string) int64 {
	latest := map[string]int64{}
	s.sumPoints(name, func(dp pmetric.NumberDataPoint) {
		latest[fmt.Sprint(dp.Attributes().AsRaw())] = dp.IntValue()
	})
	var total int64
	for _, v := range latest {
		total += v
	}
	return total
}

// TestEventsBecomeExactMetrics sends events through receiver, privacy
// processor and connector in the built collector, and checks that the
// exported pulse.events counts every accepted event exactly once.
func TestEventsBecomeExactMetrics(t *testing.T) {
	s := &sink{}
	c := startCollectorWith(t, s, func(c *collector, sinkAddr string) string {
		writePrivacyKey(t, c.dir)
		return otlpSinkPipeline(c, sinkAddr)
	})
	now := time.Now().UnixMilli()
	accepted := 0
	for b := range 20 {
		var evs []string
		for i := range 25 {
			evs = append(evs, strings.Replace(event(fmt.Sprintf("e-%d-%d", b, i), now), `"consentLevel":"analytics"`, `"consentLevel":"full"`, 1))
		}
		status, a := post(t, "http://"+c.events+"/v1/events", "["+strings.Join(evs, ",")+"]")
		if status != http.StatusOK {
			t.Fatalf("status %d: %+v", status, a)
		}
		accepted += a.Accepted
	}
	waitFor(t, fmt.Sprintf("pulse.events to reach %d", accepted), func() bool { return s.latestSum("pulse.events") == int64(accepted) })
	c.stop(t)
	if got := s.latestSum("pulse.events"); got != int64(accepted) {
		t.Fatalf("pulse.events = %d after shutdown, want %d", got, accepted)
	}
	if got := s.latestSum("pulse.interactions"); got != int64(accepted) {
		t.Errorf("pulse.interactions = %d, want %d (one interaction each)", got, accepted)
	}
}

// eventPipeline is the configuration the event tests share: analytics
// receiver ▶ privacy processor ▶ batch ▶ analytics_metrics connector ▶ the
// given exporters, whose YAML (indented under "exporters:") exportersYAML
// holds.
func eventPipeline(c *collector, flush, exportersYAML string, exporters ...string) string {
	return fmt.Sprintf(`
extensions:
  health_check:
    endpoint: %s
receivers:
  analytics:
    endpoint: %s
processors:
  privacy:
    pseudonymize:
      key_file: ./privacy.key
connectors:
  analytics_metrics:
    flush_interval: %s
exporters:
%s
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [analytics]
      processors: [privacy]
      exporters: [analytics_metrics]
    metrics:
      receivers: [analytics_metrics]
      exporters: [%s]
`, c.health, c.events, flush, strings.TrimRight(exportersYAML, "\n"), strings.Join(exporters, ", "))
}

// otlpSinkPipeline is eventPipeline exporting over OTLP/HTTP to a sink.
func otlpSinkPipeline(c *collector, sinkAddr string) string {
	return eventPipeline(c, "200ms", fmt.Sprintf(`  otlphttp:
    endpoint: http://%s
    compression: none`, sinkAddr), "otlphttp")
}
