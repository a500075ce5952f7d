package privacyprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pulse-otel/pulse/internal/schema"
)

// A version that reads like a dotted quad is a version, on the resource, on
// the record and in maps: the IP detectors do not look at version values,
// the other detectors do, and an address anywhere else is still masked.
func TestVersionsAreNotIPs(t *testing.T) {
	p := newTest(t, nil)
	ld := plog.NewLogs()
	lr := analyticsEvent(ld, "full", map[string]any{
		schema.AttrModelVersion: "1.2.3.4",
		"build_version":         "10.0.0.1",
		"pulse.page.title":      "served by 10.0.0.1",
		"conversion":            "10.0.0.1",
		schema.AttrMetadata: map[string]any{
			"appVersion":  "1.2.3.4",
			"sdk_version": "10.0.0.1",
			"note":        "10.0.0.1",
			"nested":      map[string]any{"os.version": "1.2.3.4"},
		},
	})
	lr.SetEventName(schema.EventRecommendation)
	res := ld.ResourceLogs().At(0).Resource().Attributes()
	res.PutStr(schema.ResourceAppVersion, "1.2.3.4")
	res.PutStr("service.version", "10.0.0.1")
	res.PutStr("telemetry.sdk.version", "1.2.3.4")
	res.PutStr("os.version", "10.0.0.1")
	res.PutStr("host.note", "10.0.0.1")
	res.PutStr("release.version", "1.2.3.4 by bob@example.com")

	attrs := only(t, run(t, p, ld))
	want := map[string]string{
		schema.ResourceAppVersion: "1.2.3.4",
		"service.version":         "10.0.0.1",
		"telemetry.sdk.version":   "1.2.3.4",
		"os.version":              "10.0.0.1",
		"host.note":               "[REDACTED:ipv4]",
		"release.version":         "1.2.3.4 by [REDACTED:email]",
	}
	for k, w := range want {
		v := str(res, k)
		assert.Equal(t, w, v, "resource %s", k)
	}
	want = map[string]string{
		schema.AttrModelVersion: "1.2.3.4",
		"build_version":         "10.0.0.1",
		"pulse.page.title":      "served by [REDACTED:ipv4]",
		"conversion":            "[REDACTED:ipv4]",
	}
	for k, w := range want {
		v := str(attrs, k)
		assert.Equal(t, w, v, k)
	}
	md, _ := attrs.Get(schema.AttrMetadata)
	for k, w := range map[string]string{"appVersion": "1.2.3.4", "sdk_version": "10.0.0.1", "note": "[REDACTED:ipv4]"} {
		v := str(md.Map(), k)
		assert.Equal(t, w, v, "pulse.metadata.%s", k)
	}
	nested, _ := md.Map().Get("nested")
	v := str(nested.Map(), "os.version")
	assert.Equal(t, "1.2.3.4", v)

	// Metric data points: the connector's model_version label.
	m := pmetric.NewMetrics()
	dp := m.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty().SetEmptyGauge().DataPoints().AppendEmpty()
	dp.Attributes().PutStr("model_version", "10.0.0.1")
	dp.Attributes().PutStr("peer", "10.0.0.1")
	_, err := p.processMetrics(context.Background(), m)
	require.NoError(t, err)
	for k, w := range map[string]string{"model_version": "10.0.0.1", "peer": "[REDACTED:ipv4]"} {
		v := str(dp.Attributes(), k)
		assert.Equal(t, w, v, k)
	}
}

// An IP attribute or a sensitive key stays what it is, whatever its name
// ends with; skip still skips.
func TestVersionRuleOrder(t *testing.T) {
	p := newTest(t, func(c *Config) {
		c.IP.Attributes = append(c.IP.Attributes, "peer.version")
		c.PII.Skip = append(c.PII.Skip, "raw.version")
	})
	ld := plog.NewLogs()
	analyticsEvent(ld, "full", map[string]any{
		"peer.version": "203.0.113.77",
		"raw.version":  "bob@example.com",
	})
	attrs := only(t, run(t, p, ld))
	v := str(attrs, "peer.version")
	assert.Equal(t, "203.0.113.0", v, "an IP attribute is truncated")
	v = str(attrs, "raw.version")
	assert.Equal(t, "bob@example.com", v, "skip is not scanned at all")
}

func TestIsVersionName(t *testing.T) {
	for k, want := range map[string]bool{
		"version": true, "Version": true, "pulse.app.version": true, "service.version": true,
		"pulse.model.version": true, "telemetry.sdk.version": true, "os.version": true,
		"model_version": true, "app-version": true, "APP_VERSION": true, "appVersion": true,
		"os2Version": true, "x.Version": true,
		"conversion": false, "subversion": false, "pulse.conversion": false, "versions": false,
		"version.id": false, "appversion": false, "APPVersion": false, "": false, "ersion": false,
	} {
		assert.Equal(t, want, isVersionName(k), k)
	}
}
