package promstoreexporter

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// bigBatch is n fresh series of one gauge at ts: enough to fill a small disk.
func bigBatch(n int, ts time.Time, tag string) pmetric.Metrics {
	md := pmetric.NewMetrics()
	m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("pulse.fill")
	dps := m.SetEmptyGauge().DataPoints()
	for i := range n {
		dp := dps.AppendEmpty()
		dp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
		dp.SetDoubleValue(float64(i))
		dp.Attributes().PutStr("series", tag+strings.Repeat("x", 64)+string(rune('a'+i%26))+time.Duration(i).String())
	}
	return md
}

// TestDiskFullIsRetryableAndRecovers fills a small tmpfs under the store:
// the export fails with a retryable error that says why, the exporter stays
// up, and exports succeed again once there is room. It needs to mount a
// tmpfs (root with CAP_SYS_ADMIN) and skips otherwise.
func TestDiskFullIsRetryableAndRecovers(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs to simulate a full disk: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })

	cfg := testConfig(t, dir)
	exp := startExporter(t, cfg)
	t.Cleanup(func() { _ = exp.Shutdown(context.Background()) })

	var failure error
	ts := time.Now()
	for i := 0; i < 200 && failure == nil; i++ {
		failure = exp.ConsumeMetrics(context.Background(), bigBatch(2000, ts, time.Duration(i).String()))
	}
	require.Error(t, failure, "2 MiB never filled up")
	assert.False(t, consumererror.IsPermanent(failure), "a full disk must be retried, not dropped: %v", failure)
	assert.Contains(t, strings.ToLower(failure.Error()), "no space", "the error says why")
	t.Logf("full disk: %v", failure)

	// Make room: the same exporter accepts data again.
	if out, err := exec.Command("mount", "-o", "remount,size=256m", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v %s", err, out)
	}
	var err error
	for i := 0; i < 50; i++ {
		if err = exp.ConsumeMetrics(context.Background(), bigBatch(10, time.Now(), "after")); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NoError(t, err, "exports must succeed again once the disk has room")
	_, statErr := os.Stat(dir)
	require.NoError(t, statErr)
}
