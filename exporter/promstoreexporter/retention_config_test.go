package promstoreexporter

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/pulse-otel/pulse/exporter/promstoreexporter/internal/metadata"
	"github.com/pulse-otel/pulse/internal/audit"
	"github.com/pulse-otel/pulse/internal/retention"
)

// writePlan compiles proofPolicy into dir/policies.json.
func writePlan(t *testing.T, dir string) (string, retention.Plan) {
	t.Helper()
	plan, _ := proofPlan(t)
	b, err := retention.MarshalPlan(plan)
	require.NoError(t, err)
	path := filepath.Join(dir, "policies.json")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path, plan
}

func TestRetentionConfigErrors(t *testing.T) {
	dir := t.TempDir()
	good, _ := writePlan(t, dir)
	cfg := createDefaultConfig().(*Config)
	cfg.Retention.Policies, cfg.Retention.Interval = good, time.Second
	require.ErrorContains(t, cfg.Validate(), "retention.interval: must be at least 1m0s, got 1s")

	cfg = createDefaultConfig().(*Config)
	require.Equal(t, time.Hour, cfg.Retention.Interval)
	cfg.Retention.Policies = good
	require.NoError(t, cfg.Validate())
	// The plan is read at Start: a configuration is valid before
	// `pulsectl retention compile` has written it.
	cfg.Retention.Policies = filepath.Join(dir, "missing.json")
	require.NoError(t, cfg.Validate())
}

// TestRetentionPlanErrors: Start refuses a plan it cannot enforce, naming
// the setting and the file.
func TestRetentionPlanErrors(t *testing.T) {
	dir := t.TempDir()
	good, _ := writePlan(t, dir)
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"version":"x","policies":[]}`), 0o600))
	for _, tt := range []struct {
		name      string
		configure func(*Config)
		want      string
	}{
		{"no plan file", func(c *Config) { c.Retention.Policies = filepath.Join(dir, "missing.json") },
			`retention.policies: read "` + filepath.Join(dir, "missing.json") + `" (pulsectl retention compile writes it)`},
		{"plan edited", func(c *Config) { c.Retention.Policies = bad },
			`does not match the policies' hash`},
		{"keeps longer than retention.time", func(c *Config) { c.Retention.Policies, c.Retention.Time = good, 30*24*time.Hour },
			`retention.policies: policy "proof" rule 0 (events, 1h) keeps 35 days, longer than retention.time (720h0m0s)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t, filepath.Join(t.TempDir(), "store"))
			tt.configure(cfg)
			require.NoError(t, cfg.Validate())
			p, err := newExporter(cfg, exportertest.NewNopSettings(metadata.Type))
			require.NoError(t, err)
			err = p.start(context.Background(), componenttest.NewNopHost())
			t.Cleanup(func() { _ = p.shutdown(context.Background()) })
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

// auditExtension is an audit log as the audit extension is: a component
// that appends.
type auditExtension struct {
	component.StartFunc
	component.ShutdownFunc
	*audit.Log
}

type extHost struct {
	component.Host
	exts map[component.ID]component.Component
}

func (h extHost) GetExtensions() map[component.ID]component.Component { return h.exts }

// TestRetentionStart: promstore with retention.policies and audit records
// the policy version in force at start, executes at once (none ran yet),
// and reports the execution on its telemetry and in the audit log.
func TestRetentionStart(t *testing.T) {
	dir := t.TempDir()
	path, plan := writePlan(t, dir)
	log, err := audit.Open(filepath.Join(dir, "audit"), audit.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = log.Close() })
	auditID := component.MustNewID("audit")
	host := extHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{auditID: auditExtension{Log: log}}}

	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	cfg := testConfig(t, filepath.Join(dir, "store"))
	cfg.Retention.Policies, cfg.Retention.Interval, cfg.Audit = path, 2*time.Hour, &auditID
	require.NoError(t, cfg.Validate())
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	p, err := newExporter(cfg, set)
	require.NoError(t, err)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p.retentionNow = func() time.Time { return now }
	require.NoError(t, p.start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, p.shutdown(context.Background())) })

	var recs []audit.Record
	deadline := time.Now().Add(30 * time.Second)
	for len(recs) < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		recs = recs[:0]
		require.NoError(t, audit.Read(filepath.Join(dir, "audit"), time.Time{}, func(r audit.Record) error {
			recs = append(recs, r)
			return nil
		}))
	}
	require.Len(t, recs, 3, "config.load and one record per rule")
	require.Equal(t, audit.ActionConfigLoad, recs[0].Action)
	require.Equal(t, plan.Version, recs[0].Details["version"])
	require.Equal(t, "proof", recs[0].Details["active_policies"])
	for _, r := range recs[1:] {
		require.Equal(t, audit.ActionRetention, r.Action)
		require.Equal(t, set.ID.String(), r.Actor)
		require.Equal(t, "proof", r.Object)
	}
	// The journal is finished once the gauges move.
	gauge := func(name string) float64 {
		m, err := tel.GetMetric(name)
		if err != nil {
			return -1
		}
		return m.Data.(metricdata.Gauge[float64]).DataPoints[0].Value
	}
	for time.Now().Before(deadline) && gauge("otelcol_exporter_promstore_retention_last_executed") <= 0 {
		time.Sleep(20 * time.Millisecond)
	}
	require.InDelta(t, float64(now.Unix()), gauge("otelcol_exporter_promstore_retention_last_executed"), 0.001)
	require.InDelta(t, float64(now.Add(2*time.Hour).Unix()), gauge("otelcol_exporter_promstore_retention_next_execution"), 0.001)
	m, err := tel.GetMetric("otelcol_exporter_promstore_retention_executions")
	require.NoError(t, err)
	dps := m.Data.(metricdata.Sum[int64]).DataPoints
	require.Len(t, dps, 1)
	v, _ := dps[0].Attributes.Value("result")
	require.Equal(t, "finished", v.AsString())
	_, err = tel.GetMetric("otelcol_exporter_promstore_retention_deleted_samples")
	require.NoError(t, err)
	if !strings.Contains(recs[1].Details["execution"], "T12:00:00Z") {
		t.Errorf("execution %q is not the clock's time", recs[1].Details["execution"])
	}
}
