package privacyprocessor

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/pulse-otel/pulse/internal/audit"
	"github.com/pulse-otel/pulse/internal/audit/audittest"
	"github.com/pulse-otel/pulse/internal/testutil"
	"github.com/pulse-otel/pulse/processor/privacyprocessor/internal/metadata"
)

// auditLog offers an audit.Log as the host's extension "audit".
type auditLog struct {
	component.StartFunc
	component.ShutdownFunc
	*audit.Log
}

// startWithAudit starts the processor as the collector would for a config
// used in two pipelines (logs and traces: two processors, one *Config).
func startWithAudit(t *testing.T, dir string, mutate func(*Config)) {
	t.Helper()
	l, err := audit.Open(dir, audit.Options{})
	require.NoError(t, err)
	defer func() { _ = l.Close() }()
	id := component.MustNewID("audit")
	host := testutil.Host(map[component.ID]component.Component{id: auditLog{Log: l}})
	cfg := createDefaultConfig().(*Config)
	cfg.Pseudonymize.Key = testKey
	cfg.Audit = &id
	if mutate != nil {
		mutate(cfg)
	}
	require.NoError(t, cfg.Validate())
	f := NewFactory()
	ctx := context.Background()
	set := processortest.NewNopSettings(metadata.Type)
	lp, err := f.CreateLogs(ctx, set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	tp, err := f.CreateTraces(ctx, set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, lp.Start(ctx, host))
	require.NoError(t, tp.Start(ctx, host))
	require.NoError(t, lp.Shutdown(ctx))
	require.NoError(t, tp.Shutdown(ctx))
}

func TestAuditConfigLoadAndKeyRotation(t *testing.T) {
	dir := t.TempDir()
	startWithAudit(t, dir, nil)
	rs := audittest.Records(t, dir)
	require.Len(t, rs, 1, "one config.load per config, not per pipeline")
	first := rs[0]
	assert.Equal(t, audit.ActionConfigLoad, first.Action)
	assert.Equal(t, "privacy", first.Actor)
	assert.Equal(t, "privacy", first.Source)
	assert.NotEmpty(t, first.Details["key_id"])
	assert.Len(t, first.Details["key_check"], 16)
	assert.Len(t, first.Details["config_fingerprint"], 16)

	// Same policy again (a restart): config.load, same fingerprint, no rotation.
	startWithAudit(t, dir, nil)
	rs = audittest.Records(t, dir)
	require.Len(t, rs, 2)
	assert.Equal(t, first.Details, rs[1].Details)

	// A changed policy: another fingerprint, no rotation.
	startWithAudit(t, dir, func(c *Config) { c.AuditAttributes = !c.AuditAttributes })
	rs = audittest.Records(t, dir)
	require.Len(t, rs, 3)
	assert.Equal(t, audit.ActionConfigLoad, rs[2].Action)
	assert.NotEqual(t, first.Details["config_fingerprint"], rs[2].Details["config_fingerprint"])

	// A new key id: key.rotate, then config.load.
	const newKey = "another-key-0123456789abcdef0123456789"
	startWithAudit(t, dir, func(c *Config) { c.Pseudonymize.KeyID = "k2"; c.Pseudonymize.Key = newKey })
	rs = audittest.Records(t, dir)
	require.Len(t, rs, 5)
	rot := rs[3]
	assert.Equal(t, audit.ActionKeyRotation, rot.Action)
	assert.Equal(t, first.Details["key_id"], rot.Details["old_key_id"])
	assert.Equal(t, "k2", rot.Details["new_key_id"])
	assert.NotEqual(t, rot.Details["old_key_check"], rot.Details["new_key_check"])
	assert.Equal(t, "k2", rs[4].Details["key_id"])

	// The key changed under the same key id: still a rotation.
	startWithAudit(t, dir, func(c *Config) { c.Pseudonymize.KeyID = "k2" })
	rs = audittest.Records(t, dir)
	require.Len(t, rs, 7)
	assert.Equal(t, audit.ActionKeyRotation, rs[5].Action)
	assert.Equal(t, "k2", rs[5].Details["old_key_id"])

	// The keys are never written.
	for _, p := range mustGlob(t, filepath.Join(dir, "*")) {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.NotContains(t, string(b), testKey)
		assert.NotContains(t, string(b), newKey)
	}
}

func TestAuditMissingExtensionFailsStart(t *testing.T) {
	id := component.MustNewID("audit")
	p := newTest(t, func(c *Config) { c.Audit = &id })
	require.ErrorContains(t, p.start(context.Background(), testutil.Host(nil)), `audit: audit: extension "audit" is not configured`)
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	require.NoError(t, err)
	return m
}
