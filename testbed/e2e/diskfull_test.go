package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/pulse-otel/pulse/testbed/internal/proc"
)

// diskFullConfig stores events (analytics -> privacy -> analytics_metrics,
// which acknowledges only what promstore committed) and OTLP metrics in
// promstore. The exporter's retries are off so that an OTLP request gets
// promstore's own answer instead of waiting out the backoff.
const diskFullConfig = `
extensions:
  health_check:
    endpoint: %[1]s
receivers:
  analytics:
    endpoint: %[2]s
  otlp:
    protocols:
      http:
        endpoint: %[3]s
processors:
  privacy:
    pseudonymize:
      key_file: ./privacy.key
connectors:
  analytics_metrics:
    flush_interval: 500ms
    wait_for_export: true
exporters:
  promstore:
    endpoint: %[4]s
    directory: ./promstore
    retry_on_failure:
      enabled: false
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
      receivers: [analytics_metrics, otlp]
      exporters: [promstore]
`

// tmpfs mounts a tmpfs of size on dir, owned by the test's user, and
// returns a function that changes its size. It skips the test when
// mounting is not permitted (neither root nor passwordless sudo). The
// cleanup unmounts it; call tmpfs before starting anything that writes
// there, so that the unmount runs after that process is stopped.
func tmpfs(t *testing.T, dir, size string) (resize func(size string)) {
	t.Helper()
	var prefix []string
	if os.Geteuid() != 0 {
		if _, err := exec.LookPath("sudo"); err != nil {
			t.Skip("mounting a tmpfs to fill the disk needs root or passwordless sudo; neither is available")
		}
		prefix = []string{"sudo", "-n"}
	}
	run := func(args ...string) error {
		args = append(append([]string(nil), prefix...), args...)
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
		return nil
	}
	opts := fmt.Sprintf("size=%s,uid=%d,gid=%d,mode=0700", size, os.Getuid(), os.Getgid())
	if err := run("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir); err != nil {
		t.Skipf("cannot mount a tmpfs to simulate a full disk (needs root with CAP_SYS_ADMIN or passwordless sudo): %v", err)
	}
	t.Cleanup(func() {
		if err := run("umount", "-l", dir); err != nil {
			t.Errorf("unmounting the test's tmpfs: %v", err)
		}
	})
	return func(size string) {
		t.Helper()
		if err := run("mount", "-o", "remount,size="+size, dir); err != nil {
			t.Fatalf("resizing the tmpfs: %v", err)
		}
	}
}

// fillBatch is n fresh series of one gauge at ts, with long label values:
// enough, a few times over, to fill a small disk.
func fillBatch(n int, ts time.Time, tag string) []byte {
	md := pmetric.NewMetrics()
	m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("pulse.fill")
	dps := m.SetEmptyGauge().DataPoints()
	pad := strings.Repeat("x", 64)
	for i := range n {
		dp := dps.AppendEmpty()
		dp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
		dp.SetDoubleValue(float64(i))
		dp.Attributes().PutStr("series", fmt.Sprintf("%s-%s-%06d", tag, pad, i))
	}
	b, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalJSON()
	if err != nil {
		panic(err) // pdata marshals what it built
	}
	return b
}

// reply is the status, Retry-After and body of an HTTP answer.
type reply struct {
	status     int
	retryAfter string
	body       string
}

func (r reply) String() string {
	return fmt.Sprintf("%d (Retry-After %q) %s", r.status, r.retryAfter, r.body)
}

var diskFullClient = &http.Client{Timeout: 30 * time.Second}

// send posts body as JSON; it does not touch t, so require.Eventually's
// condition (run on another goroutine) may call it.
func send(c *http.Client, url string, body []byte) (reply, error) {
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return reply{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: string(bytes.TrimSpace(b))}, nil
}

// sent reports whether body posted to url was answered 200.
func sent(url string, body []byte) bool {
	r, err := send(diskFullClient, url, body)
	return err == nil && r.status == http.StatusOK
}

func postJSON(t *testing.T, url string, body []byte) reply {
	t.Helper()
	r, err := send(diskFullClient, url, body)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	return r
}

// events is a batch of n events with ids tag-0 .. tag-(n-1), stored by
// the privacy processor's full consent.
func events(tag string, n int) []byte {
	now := time.Now().UnixMilli()
	evs := make([]string, n)
	for i := range evs {
		evs[i] = strings.Replace(event(fmt.Sprintf("%s-%d", tag, i), now), `"consentLevel":"analytics"`, `"consentLevel":"full"`, 1)
	}
	return []byte("[" + strings.Join(evs, ",") + "]")
}

// TestDiskFullRefusesAndRecovers runs the collector with its promstore
// directory on a 2 MiB tmpfs and fills it with OTLP metrics. A full disk
// must be refused with a retryable status that says why (OTLP 503 naming
// "no space"; events 503 with Retry-After), the collector must stay up and
// healthy with what it stored before still queryable, and once the disk
// has room again the same collector must accept and store data. It needs
// to mount a tmpfs (root with CAP_SYS_ADMIN, or passwordless sudo) and
// skips otherwise.
func TestDiskFullRefusesAndRecovers(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	store := filepath.Join(dir, "promstore")
	if err := os.Mkdir(store, 0o700); err != nil {
		t.Fatal(err)
	}
	resize := tmpfs(t, store, "2m")
	writePrivacyKey(t, dir)
	health, eventsAddr, otlpAddr, api := freePort(t), freePort(t), freePort(t), freePort(t)
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, diskFullConfig, health, eventsAddr, otlpAddr, api), 0o600); err != nil {
		t.Fatal(err)
	}
	p := proc.StartReady(t, proc.Spec{Name: "collector", Path: bin, Args: []string{"--config", cfg}, Dir: dir},
		60*time.Second, proc.HTTPReady("http://"+health+"/"))
	started := time.Now()
	eventsURL, otlpURL := "http://"+eventsAddr+"/v1/events", "http://"+otlpAddr+"/v1/metrics"
	const q = "sum(pulse_events_total)"
	stored := func() float64 { v, _ := instant(t, "http://"+api, q); return v }

	// Good data first: stored and queryable.
	if r := postJSON(t, eventsURL, events("before", 10)); r.status != http.StatusOK {
		t.Fatalf("events before the disk is full: %s", r)
	}
	waitFor(t, "the first 10 events queryable", func() bool { return stored() == 10 })

	// Fill the disk.
	var full reply
	batches := 0
	for i := 0; i < 200 && full.status == 0; i++ {
		if r := postJSON(t, otlpURL, fillBatch(2000, time.Now(), strconv.Itoa(i))); r.status != http.StatusOK {
			full = r
		}
		batches++
	}
	require.NotZero(t, full.status, "2 MiB never filled up (%d batches of 2000 series)", batches)
	t.Logf("disk full after %d batches (%s after start): OTLP answer %s", batches, time.Since(started).Round(time.Millisecond), full)
	assert.Equal(t, http.StatusServiceUnavailable, full.status, "a full disk must be refused as retryable (503), not dropped (400): %s", full)
	assert.Contains(t, strings.ToLower(full.body), "no space", "the answer says why: %s", full)

	// Events while the disk is full. Until a flush of the connector has
	// failed, a request is counted and waits for an export that cannot
	// succeed (its client gives up; its events are exported once there is
	// room). From then on requests are refused, retryable, before anything
	// is counted.
	probe, err := send(&http.Client{Timeout: 3 * time.Second}, eventsURL, events("probe", 1))
	probeCounted := err != nil
	t.Logf("first event while the disk is full: %s (error %v)", probe, err)
	if err == nil {
		assert.Equal(t, http.StatusServiceUnavailable, probe.status, "an event the store cannot take must not be acknowledged: %s", probe)
	}
	var refused reply
	require.Eventually(t, func() bool {
		r, err := send(diskFullClient, eventsURL, events("during", 5))
		refused = r
		return err == nil && r.status != http.StatusOK
	}, 15*time.Second, 200*time.Millisecond, "events must be refused while the disk is full")
	t.Logf("events while the disk is full: %s", refused)
	assert.Equal(t, http.StatusServiceUnavailable, refused.status, "events the store cannot take must be refused as retryable: %s", refused)
	assert.NotEmpty(t, refused.retryAfter, "a 503 for events says when to retry: %s", refused)

	// No crash; what was stored is still answered.
	if exited, err := p.Exited(); exited {
		t.Fatalf("the collector exited on a full disk: %v", err)
	}
	assert.True(t, proc.HTTPReady("http://"+health+"/")(), "the collector must stay healthy on a full disk")
	if v, ok := instant(t, "http://"+api, q); !ok || v != 10 {
		t.Errorf("on a full disk %s = %v (found %v), want the 10 events stored before", q, v, ok)
	}

	// Make room: the same collector accepts and stores data again.
	resize("256m")
	require.Eventually(t, func() bool {
		return sent(otlpURL, fillBatch(10, time.Now(), "after"))
	}, 15*time.Second, 100*time.Millisecond, "OTLP exports must succeed again once the disk has room")
	require.Eventually(t, func() bool {
		return sent(eventsURL, events("after", 7))
	}, 15*time.Second, 100*time.Millisecond, "events must be accepted again once the disk has room")
	want := 17.0 // 10 before, 7 after; the refused ones not counted
	if probeCounted {
		want++ // aggregated before the refusals began, exported once there was room
	}
	waitFor(t, "the events posted after the disk had room stored", func() bool { return stored() >= want })
	if v := stored(); v != want {
		t.Errorf("%s = %v after recovery, want %v (probe counted: %v)", q, v, want, probeCounted)
	}
	if err := p.Stop(20 * time.Second); err != nil {
		t.Fatalf("graceful stop after the disk was full: %v", err)
	}
}
