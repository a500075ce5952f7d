package auditextension

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/pulse-otel/pulse/extension/auditextension/internal/metadata"
	"github.com/pulse-otel/pulse/internal/audit"
	"github.com/pulse-otel/pulse/internal/testutil"
)

func TestLifecycle(t *testing.T) {
	dir := t.TempDir()
	cfg := createDefaultConfig().(*Config)
	cfg.Directory = dir
	set := extensiontest.NewNopSettings(metadata.Type)
	set.BuildInfo.Version = "1.2.3"
	ext, err := NewFactory().Create(context.Background(), set, cfg)
	require.NoError(t, err)

	// Found through the host like any component that records does it.
	host := testutil.Host(map[component.ID]component.Component{set.ID: ext})
	app, err := audit.FromHost(host, set.ID)
	require.NoError(t, err)
	_, err = app.Append(context.Background(), audit.Entry{Action: audit.ActionForget, Actor: "a"})
	require.ErrorIs(t, err, errNotStarted)

	require.NoError(t, ext.Start(context.Background(), host))
	r, err := app.Append(context.Background(), audit.Entry{Action: audit.ActionForget, Actor: "admin-token", Object: "u_ab"})
	require.NoError(t, err)
	assert.Equal(t, uint64(2), r.Seq, "the extension's own config.load is seq 1")

	last, ok, err := app.(audit.Finder).Last(func(r audit.Record) bool { return r.Action == audit.ActionConfigLoad })
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "1.2.3", last.Details["collector_version"])
	assert.Equal(t, set.ID.String(), last.Actor)

	require.NoError(t, ext.Shutdown(context.Background()))
	_, err = app.Append(context.Background(), audit.Entry{Action: audit.ActionForget, Actor: "a"})
	require.ErrorIs(t, err, errNotStarted)
	res, err := audit.Verify(dir)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), res.Records)

	// A restart continues the chain.
	ext2, err := NewFactory().Create(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, ext2.Start(context.Background(), host))
	require.NoError(t, ext2.Shutdown(context.Background()))
	res, err = audit.Verify(dir)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), res.Records)
}

func TestFromHostErrors(t *testing.T) {
	id := component.MustNewID("audit")
	_, err := audit.FromHost(testutil.Host(nil), id)
	require.ErrorContains(t, err, `extension "audit" is not configured`)
	_, err = audit.FromHost(testutil.Host(map[component.ID]component.Component{id: struct{ component.Component }{}}), id)
	require.ErrorContains(t, err, "is not an audit extension")
}

func TestStartFailsOnUnwritableDirectory(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Directory = "/proc/pulse-audit-cannot-exist"
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.Error(t, ext.Start(context.Background(), testutil.Host(nil)))
}
