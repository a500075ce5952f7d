package forgetextension

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/bearertokenauthextension"
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/otelcol/otelcoltest"

	"github.com/pulse-otel/pulse/internal/testutil/kafkatest"
)

func collectorFactories() (otelcol.Factories, error) {
	f, err := otelcoltest.NopFactories()
	if err != nil {
		return f, err
	}
	f.Extensions[NewFactory().Type()] = NewFactory()
	f.Extensions[filestorage.NewFactory().Type()] = filestorage.NewFactory()
	f.Extensions[bearertokenauthextension.NewFactory().Type()] = bearertokenauthextension.NewFactory()
	return f, nil
}

// runCollector runs a whole collector with testdata/collector.yaml until
// the returned function stops it.
func runCollector(t *testing.T) (stop func()) {
	t.Helper()
	return runCollectorWith(t, "collector.yaml")
}

// runCollectorWith runs a whole collector with testdata/name.
func runCollectorWith(t *testing.T, name string) (stop func()) {
	t.Helper()
	col, err := otelcol.NewCollector(otelcol.CollectorSettings{
		BuildInfo: component.NewDefaultBuildInfo(),
		Factories: collectorFactories,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{ResolverSettings: confmap.ResolverSettings{
			URIs:              []string{filepath.Join("testdata", name)},
			ProviderFactories: []confmap.ProviderFactory{fileprovider.NewFactory(), envprovider.NewFactory()},
		}},
		SkipSettingGRPCLogger: true,
	})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- col.Run(context.Background()) }()
	require.Eventually(t, func() bool {
		select {
		case err := <-done:
			require.NoError(t, err, "the collector stopped")
			return false
		default:
			return col.GetState() == otelcol.StateRunning
		}
	}, 10*time.Second, 10*time.Millisecond)
	return func() {
		col.Shutdown()
		require.NoError(t, <-done)
	}
}

// TestInCollector runs the extension in a real collector service: config
// loading, the start order (storage and auth before forget), auth, and a
// restart of the whole collector.
func TestInCollector(t *testing.T) {
	endpoint := freeEndpoint(t)
	url := "http://" + endpoint
	t.Setenv("FORGET_TEST_ENDPOINT", endpoint)
	t.Setenv("FORGET_TEST_DIR", t.TempDir())
	t.Setenv("FORGET_TEST_TOKEN", "admin-token")
	t.Setenv("PULSE_FORGET_KEY", testKey)
	auth := []string{"Authorization", "Bearer admin-token"}

	stop := runCollector(t)
	assert.Equal(t, http.StatusUnauthorized, forgetUser(t, url, "u-1").status)
	r := forgetUser(t, url, "u-1", auth...)
	require.Equal(t, http.StatusAccepted, r.status, r.raw)
	stop()

	stop = runCollector(t)
	defer stop()
	again := forgetUser(t, url, "u-1", auth...)
	require.Equal(t, http.StatusOK, again.status, again.raw)
	assert.Equal(t, r.str(t, "requestId"), again.str(t, "requestId"))
}

// TestInCollectorSynced: a collector configured with sync.kafka in YAML
// shares its requests with another gateway on the same broker.
func TestInCollectorSynced(t *testing.T) {
	broker := kafkatest.Start(t, 1)
	endpoint := freeEndpoint(t)
	t.Setenv("FORGET_TEST_ENDPOINT", endpoint)
	t.Setenv("FORGET_TEST_BROKER", broker.Addr)
	t.Setenv("PULSE_FORGET_KEY", testKey)
	stop := runCollectorWith(t, "collector_sync.yaml")
	defer stop()

	other := gateway(t, broker.Addr, nil)
	r := forgetUser(t, "http://"+endpoint, "u-1")
	require.Equal(t, http.StatusAccepted, r.status, r.raw)
	waitForgotten(t, other, "u-1", time.Now())
}
