package privacyprocessor

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"

	"github.com/pulse-otel/pulse/internal/testutil"
	"github.com/pulse-otel/pulse/receiver/analyticsreceiver"
)

func sprint(v any) string { return fmt.Sprintf("%+v", v) }

// startBehindReceiver starts the processor with the default config and the
// test key, feeding sink, behind a real analytics receiver on a free
// loopback port, both logging to logger; it returns the receiver's
// endpoint. Both stop when the test ends.
func startBehindReceiver(t *testing.T, logger *zap.Logger, sink *consumertest.LogsSink) string {
	t.Helper()
	pset := processortest.NewNopSettings(NewFactory().Type())
	pset.Logger = logger
	pcfg := createDefaultConfig().(*Config)
	pcfg.Pseudonymize.Key = testKey
	proc, err := NewFactory().CreateLogs(context.Background(), pset, pcfg, sink)
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, proc.Shutdown(context.Background())) })

	rf := analyticsreceiver.NewFactory()
	rcfg := rf.CreateDefaultConfig().(*analyticsreceiver.Config)
	rcfg.NetAddr.Endpoint = testutil.FreeAddr(t)
	rset := receivertest.NewNopSettings(rf.Type())
	rset.Logger = logger
	rcv, err := rf.CreateLogs(context.Background(), rset, rcfg, proc)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })
	return rcfg.NetAddr.Endpoint
}
