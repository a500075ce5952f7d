package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pulse-otel/pulse/testbed/internal/proc"
	"github.com/pulse-otel/pulse/testbed/loadgen"
)

// The remote-write outage test: the shipped config/remote-write.yaml (the
// upstream prometheus_remote_write exporter with its on-disk WAL) writing
// to a real Prometheus that goes away for a while under load. At v0.165.1
// the exporter has no exporterhelper sending_queue (so no file_storage
// persistent queue): its only persistence is its own `wal`, and its
// `remote_write_queue` is an in-memory queue in front of the WAL.

// promProc is a Prometheus with the remote-write receiver that can be
// stopped and started again on the same port and the same storage.
type promProc struct {
	bin, cfg, data, addr string
	out                  *proc.Buffer
	p                    *proc.Process // nil while stopped
	starts               int
}

func newPromProc(t *testing.T) *promProc {
	t.Helper()
	bin := prometheusBinary(t)
	dir := t.TempDir()
	p := &promProc{bin: bin, cfg: filepath.Join(dir, "prometheus.yml"), data: filepath.Join(dir, "data"), addr: freePort(t), out: new(proc.Buffer)}
	if err := os.WriteFile(p.cfg, []byte("global: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// start runs Prometheus and waits until it is ready; all starts write to
// one log.
func (p *promProc) start(t *testing.T) {
	t.Helper()
	p.starts++
	fmt.Fprintf(p.out, "--- start %d\n", p.starts)
	p.p = proc.StartReady(t, proc.Spec{Name: "prometheus", Path: p.bin, Args: []string{
		"--config.file=" + p.cfg, "--storage.tsdb.path=" + p.data,
		"--web.listen-address=" + p.addr, "--web.enable-remote-write-receiver",
	}, Output: p.out}, 60*time.Second, proc.HTTPReady("http://"+p.addr+"/-/ready"))
}

// stop sends SIGTERM and waits for Prometheus to exit (SIGKILL after 30 s
// fails the test).
func (p *promProc) stop(t *testing.T) {
	t.Helper()
	err := p.p.Stop(30 * time.Second)
	p.p = nil
	if errors.Is(err, proc.ErrKilled) {
		t.Fatal(err)
	}
}

// promScalar runs an instant query evaluated at `at` and returns the value
// of its first sample.
func promScalar(api, query string, at time.Time) (float64, bool) {
	q := url.Values{"query": {query}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)}}
	resp, err := http.Get(api + "/api/v1/query?" + q.Encode())
	if err != nil {
		return 0, false
	}
	defer func() { _ = resp.Body.Close() }()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" || len(r.Data.Result) == 0 {
		return 0, false
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// promEvents is what Prometheus holds of pulse_events_total: the plain
// sum without a collector restart; with one at boundary (the connector's
// counters start again at 0 in the new process), the last value of each
// series before the boundary plus its last value after it. Every sample of
// the old process precedes the boundary (the start of the new process).
func promEvents(api string, boundary time.Time) (float64, bool) {
	now := time.Now()
	if boundary.IsZero() {
		return promScalar(api, "sum(pulse_events_total)", now)
	}
	at := strconv.FormatFloat(float64(boundary.UnixMilli())/1000, 'f', 3, 64)
	pre, ok := promScalar(api, fmt.Sprintf("sum(last_over_time(pulse_events_total[1h] @ %s))", at), now)
	if !ok {
		return 0, false
	}
	post, ok := promScalar(api, fmt.Sprintf("sum(last_over_time(pulse_events_total[%dms]))", now.Sub(boundary).Milliseconds()), now)
	if !ok {
		post = 0
	}
	return pre + post, true
}

// promSampleTimes returns the timestamps (ms) of the raw samples of the
// series selected by selector in (from, to].
func promSampleTimes(t *testing.T, api, selector string, from, to time.Time) map[int64]bool {
	t.Helper()
	q := url.Values{
		"query": {fmt.Sprintf("%s[%dms]", selector, to.Sub(from).Milliseconds())},
		"time":  {strconv.FormatFloat(float64(to.UnixMilli())/1000, 'f', 3, 64)},
	}
	resp, err := http.Get(api + "/api/v1/query?" + q.Encode())
	if err != nil {
		t.Fatalf("querying prometheus: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Values [][2]any `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &r); err != nil || r.Status != "success" {
		t.Fatalf("%s: %v %s", q.Get("query"), err, raw)
	}
	out := map[int64]bool{}
	for _, s := range r.Data.Result {
		for _, v := range s.Values {
			if ts, ok := v[0].(float64); ok {
				out[int64(math.Round(ts*1000))] = true
			}
		}
	}
	return out
}

// rwSeriesKey identifies a series of the truth sink: its attributes.
func rwSeriesKey(attrs pcommon.Map) string {
	keys := make([]string, 0, attrs.Len())
	for k := range attrs.All() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		v, _ := attrs.Get(k)
		fmt.Fprintf(&b, "%s=%q,", k, v.AsString())
	}
	return b.String()
}

// rwEventPoints calls fn for every data point of pulse.events the sink got.
func (s *sink) rwEventPoints(fn func(dp pmetric.NumberDataPoint)) { s.sumPoints("pulse.events", fn) }

// rwExportedEvents is what the connector exported of pulse.events: the
// latest value of every series of every process (start time), summed.
func (s *sink) rwExportedEvents() int64 {
	type key struct {
		series string
		start  pcommon.Timestamp
	}
	latest := map[key]pmetric.NumberDataPoint{}
	s.rwEventPoints(func(dp pmetric.NumberDataPoint) {
		k := key{rwSeriesKey(dp.Attributes()), dp.StartTimestamp()}
		if old, ok := latest[k]; !ok || dp.Timestamp() >= old.Timestamp() {
			latest[k] = dp
		}
	})
	var total int64
	for _, dp := range latest {
		total += dp.IntValue()
	}
	return total
}

// rwBusiestSeries returns the attributes of the pulse.events series with
// the most events (of the last process), and the timestamps (ms) of every
// export that carried it.
func (s *sink) rwBusiestSeries() (map[string]string, map[int64]bool) {
	var best pmetric.NumberDataPoint
	found := false
	s.rwEventPoints(func(dp pmetric.NumberDataPoint) {
		if !found || dp.IntValue() > best.IntValue() {
			best, found = dp, true
		}
	})
	if !found {
		return nil, nil
	}
	attrs := map[string]string{}
	for k, v := range best.Attributes().All() {
		attrs[k] = v.AsString()
	}
	key := rwSeriesKey(best.Attributes())
	times := map[int64]bool{}
	s.rwEventPoints(func(dp pmetric.NumberDataPoint) {
		if rwSeriesKey(dp.Attributes()) == key {
			times[int64(dp.Timestamp())/1e6] = true
		}
	})
	return attrs, times
}

// rwShippedConfig is config/remote-write.yaml as shipped, with its fixed
// local ports replaced by the test's and one more exporter in the metrics
// pipeline: otlphttp/truth to the test's sink, which records every export
// of the connector (the truth the store is compared with).
func rwShippedConfig(t *testing.T, c *collector, sinkAddr string, ports map[string]string) string {
	t.Helper()
	cfg, replace := shippedConfig(t, "remote-write.yaml")
	moveEndpoints(t, replace, c, ports)
	replace("\nexporters:\n", fmt.Sprintf("\nexporters:\n  otlphttp/truth:\n    endpoint: http://%s\n    compression: none\n", sinkAddr))
	replace("exporters: [prometheus_remote_write, debug]", "exporters: [prometheus_remote_write, debug, otlphttp/truth]")
	return *cfg
}

// remoteWriteSecrets makes a directory holding the secrets
// config/remote-write.yaml reads, and points its environment at them and
// at the Prometheus API api.
func remoteWriteSecrets(t *testing.T, api string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"privacy.key", "forget.key", "admin.token"} {
		if err := os.WriteFile(filepath.Join(dir, "data", f), []byte(strings.Repeat("s3cr3t", 8)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PULSE_REMOTE_WRITE_URL", api+"/api/v1/write")
	t.Setenv("PULSE_PRIVACY_KEY_FILE", filepath.Join(dir, "data", "privacy.key"))
	t.Setenv("PULSE_FORGET_KEY_FILE", filepath.Join(dir, "data", "forget.key"))
	t.Setenv("PULSE_ADMIN_TOKEN_FILE", filepath.Join(dir, "data", "admin.token"))
	return dir
}

// shippedConfig reads config/<name> as shipped; replace swaps a string that
// must occur in it exactly once (so a changed config fails loudly here).
func shippedConfig(t *testing.T, name string) (cfg *string, replace func(from, to string)) {
	t.Helper()
	raw, err := os.ReadFile("../../config/" + name)
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	return &s, func(from, to string) {
		t.Helper()
		if n := strings.Count(s, from); n != 1 {
			t.Fatalf("config/%s: %q occurs %d times, want once; update the test", name, from, n)
		}
		s = strings.Replace(s, from, to, 1)
	}
}

// moveEndpoints moves the shipped configs' fixed endpoints to the
// collector's and ports' free loopback ones (keys otlp-grpc, otlp-http,
// forget, telemetry).
func moveEndpoints(t *testing.T, replace func(from, to string), c *collector, ports map[string]string) {
	t.Helper()
	replace("endpoint: localhost:13133", "endpoint: "+c.health)
	replace("endpoint: localhost:4320", "endpoint: "+c.events)
	replace("endpoint: localhost:4317", "endpoint: "+ports["otlp-grpc"])
	replace("endpoint: localhost:4318", "endpoint: "+ports["otlp-http"])
	replace("endpoint: localhost:4321", "endpoint: "+ports["forget"])
	_, telPort, _ := net.SplitHostPort(ports["telemetry"])
	replace("port: 8888", "port: "+telPort)
}

// rwTelemetry returns the collector's own metrics about the remote-write
// exporter (WAL, failed sends, queue).
func rwTelemetry(addr string) string {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return err.Error()
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	var lines []string
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(l, "#") || !strings.Contains(l, "prometheus_remote_write") {
			continue
		}
		if strings.Contains(l, "prometheusremotewrite_wal") || strings.Contains(l, "failed") || strings.Contains(l, "otelcol_exporter_sent") ||
			strings.Contains(l, "queue_size") || strings.Contains(l, "translated") {
			if !strings.Contains(l, "_bucket{") {
				lines = append(lines, "  "+l)
			}
		}
	}
	return strings.Join(lines, "\n")
}

// rwLogLines returns the lines of a process's output that contain what,
// shortened.
func rwLogLines(out, what string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, what) {
			// Of the exporter's JSON log line, keep the message and the counts.
			if i := strings.Index(l, `"rejected_request_count"`); i >= 0 {
				if j := strings.Index(l[i:], `, "error"`); j >= 0 {
					l = what + ": " + l[i:i+j]
				}
			}
			if len(l) > 400 {
				l = l[:400] + "…"
			}
			lines = append(lines, l)
		}
	}
	return lines
}

// ackTimeline samples the acknowledged-event count every 200 ms.
type ackTimeline struct {
	mu  sync.Mutex
	at  []time.Time
	ack []int64
}

func (a *ackTimeline) run(ctx context.Context, p *loadgen.Progress) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		a.mu.Lock()
		a.at, a.ack = append(a.at, time.Now()), append(a.ack, p.Accepted.Load())
		a.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// window returns the events acknowledged in [from, to] and the longest
// stretch inside it without any acknowledgement.
func (a *ackTimeline) window(from, to time.Time) (acked int64, longestGap time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	first, last := -1, -1
	var lastChange time.Time
	for i, at := range a.at {
		if at.Before(from) || at.After(to) {
			continue
		}
		if first < 0 {
			first, lastChange = i, at
		}
		last = i
		if a.ack[i] != a.ack[max(i-1, 0)] {
			lastChange = at
		}
		longestGap = max(longestGap, at.Sub(lastChange))
	}
	if first < 0 {
		return 0, 0
	}
	return a.ack[last] - a.ack[first], longestGap
}

// TestRemoteWriteOutage runs the shipped remote-write configuration under
// 1,000 events/s, stops the Prometheus it writes to for 20 s (5 minutes
// with PULSE_LONG=1; run that with -timeout 30m), and starts it again on
// the same port and storage. The collector must keep acknowledging during
// the outage, and once the store is back every acknowledged event must be
// in it: pulse_events_total summed equals the acknowledged count. The
// second case also restarts the collector (SIGTERM, same data directory)
// in the middle of the outage, so what is acknowledged then lives only in
// the exporter's WAL on disk.
func TestRemoteWriteOutage(t *testing.T) {
	// The recovery limit is far above what the shipped configuration
	// needs (its WAL sends every 5 s), and bounds a failing run.
	outage, recoveryLimit := 20*time.Second, 2*time.Minute
	if os.Getenv("PULSE_LONG") == "1" {
		outage, recoveryLimit = 5*time.Minute, 5*time.Minute
		if dl, ok := t.Deadline(); ok {
			if need := 2 * (outage + recoveryLimit + time.Minute); time.Until(dl) < need {
				t.Fatalf("with PULSE_LONG=1 the test can take %s; run it with -timeout %s or more", need, need.Round(time.Minute))
			}
		}
	}
	t.Run("prometheus-down", func(t *testing.T) { remoteWriteOutage(t, outage, recoveryLimit, false) })
	t.Run("prometheus-down-collector-restart", func(t *testing.T) { remoteWriteOutage(t, outage, recoveryLimit, true) })
}

func remoteWriteOutage(t *testing.T, outage, recoveryLimit time.Duration, restartCollector bool) {
	t.Helper()
	binary(t)
	prom := newPromProc(t)
	prom.start(t)
	api := "http://" + prom.addr

	dir := remoteWriteSecrets(t, api)
	events, health := freePort(t), freePort(t)
	ports := map[string]string{"otlp-grpc": freePort(t), "otlp-http": freePort(t), "forget": freePort(t), "telemetry": freePort(t)}
	truth := &sink{}
	startPulse := func() *collector {
		return startCollectorWith(t, truth, func(c *collector, sinkAddr string) string {
			c.dir, c.events, c.health = dir, events, health
			return rwShippedConfig(t, c, sinkAddr, ports)
		})
	}
	c := startPulse()
	var outputs []string // the output of collectors that were replaced
	defer func() {
		if t.Failed() {
			for i, o := range outputs {
				t.Logf("output of collector %d:\n%s", i+1, o)
			}
		}
	}()

	const rate, before, after = 1000, 5 * time.Second, 5 * time.Second
	// The load is one run with a total of events; the outage is driven by
	// the clock. A total (rather than cancelling the run) lets the last
	// requests finish, so every event is either acknowledged or not.
	total := int64(rate * (before + outage + after).Seconds())
	var prog loadgen.Progress
	ctx, cancel := context.WithTimeout(context.Background(), 3*(before+outage+after)+time.Minute)
	defer cancel()
	tlCtx, tlStop := context.WithCancel(ctx)
	var tl ackTimeline
	tlDone := make(chan struct{})
	go func() { defer close(tlDone); tl.run(tlCtx, &prog) }()
	type result struct {
		st  loadgen.Stats
		err error
	}
	loadDone := make(chan result, 1)
	loadStart := time.Now()
	go func() {
		st, err := loadgen.Run(ctx, loadgen.Config{
			URL: "http://" + events, Rate: rate, Batch: 50, Users: 500, Sessions: 2000, PIIShare: 0.1, Workers: 16, Seed: 7,
		}, total, &prog)
		loadDone <- result{st, err}
	}()

	time.Sleep(before)
	downAt := time.Now()
	prom.stop(t)
	down := time.Now()
	cpuDown, _ := procStats(c.p.Pid())
	t.Logf("prometheus stopped %s after the load started (SIGTERM took %s), %d events acknowledged so far",
		down.Sub(loadStart).Round(time.Millisecond), down.Sub(downAt).Round(time.Millisecond), prog.Accepted.Load())
	var boundary, pulseDown time.Time
	if restartCollector {
		time.Sleep(outage / 2)
		pulseDown = time.Now()
		c.stop(t)
		outputs = append(outputs, c.out.String())
		boundary = time.Now()
		c = startPulse()
		t.Logf("collector restarted (SIGTERM, same data directory) mid-outage: %s from SIGTERM to healthy again", time.Since(pulseDown).Round(time.Millisecond))
		time.Sleep(time.Until(down.Add(outage)))
	} else {
		time.Sleep(outage)
	}
	upAt := time.Now()
	cpuUp, rss := procStats(c.p.Pid())
	cpuFrom := down
	if restartCollector {
		cpuFrom = boundary
		cpuDown = 0
	}
	t.Logf("collector CPU while prometheus was down: %.2f s over %s (%.0f%% of a core); RSS at the end of the outage %.0f MiB",
		(cpuUp - cpuDown).Seconds(), upAt.Sub(cpuFrom).Round(time.Second), 100*(cpuUp-cpuDown).Seconds()/upAt.Sub(cpuFrom).Seconds(), float64(rss)/(1<<20))
	prom.start(t)
	up := time.Now()
	t.Logf("prometheus started again on %s after %s down (ready %s after start)", prom.addr, up.Sub(down).Round(time.Millisecond), up.Sub(upAt).Round(time.Millisecond))

	res := <-loadDone
	if res.err != nil {
		t.Fatal(res.err)
	}
	loadEnd := time.Now()
	tlStop()
	<-tlDone
	st := res.st
	acked := st.Accepted
	inDoubt := st.Sent - st.Accepted - st.Rejected // events of requests without an answer or answered with an error
	sort.Slice(st.Latency, func(i, j int) bool { return st.Latency[i] < st.Latency[j] })
	pct := func(q float64) time.Duration {
		if len(st.Latency) == 0 {
			return 0
		}
		return st.Latency[min(len(st.Latency)-1, int(q*float64(len(st.Latency))))].Round(time.Millisecond)
	}
	t.Logf("load: %d events sent in %d requests over %s (%.0f/s): acknowledged %d, rejected %d, in doubt %d (failed requests %d), statuses %v, latency p50 %s p99 %s max %s",
		st.Sent, st.Requests, st.Elapsed.Round(time.Millisecond), float64(st.Sent)/st.Elapsed.Seconds(), acked, st.Rejected, inDoubt, st.Failed, st.Status,
		pct(0.5), pct(0.99), pct(1))
	ackBefore, gapBefore := tl.window(loadStart, downAt)
	ackDown, gapDown := tl.window(down, upAt)
	ackAfter, gapAfter := tl.window(up, loadEnd)
	t.Logf("acknowledged before the outage %d (%.0f/s, longest pause %s), during it %d (%.0f/s, longest pause %s), after it %d (%.0f/s, longest pause %s)",
		ackBefore, float64(ackBefore)/downAt.Sub(loadStart).Seconds(), gapBefore.Round(time.Millisecond),
		ackDown, float64(ackDown)/upAt.Sub(down).Seconds(), gapDown.Round(time.Millisecond),
		ackAfter, float64(ackAfter)/loadEnd.Sub(up).Seconds(), gapAfter.Round(time.Millisecond))
	if ackDown == 0 {
		t.Errorf("the collector acknowledged nothing while Prometheus was down")
	}
	if !restartCollector {
		if st.Failed != 0 || st.Status[http.StatusOK] != st.Requests || acked != st.Sent {
			t.Errorf("every request must be answered 200 with every event accepted while the store is down: %d failed, statuses %v, %d of %d accepted",
				st.Failed, st.Status, acked, st.Sent)
		}
		if gapDown > 3*time.Second {
			t.Errorf("the collector stopped acknowledging for %s during the outage", gapDown)
		}
	}

	// What the connector exported is settled one flush after the last event.
	time.Sleep(time.Second)
	exported := truth.rwExportedEvents()
	t.Logf("the connector exported %d events of pulse.events (truth sink)", exported)
	if exported < acked {
		t.Errorf("the connector exported %d events, fewer than the %d acknowledged", exported, acked)
	}

	// Recovery: until the store holds what the connector exported.
	var lastLog time.Time // only the condition, one call at a time, uses it
	recovered := time.Duration(-1)
	if assert.Eventually(t, func() bool {
		final, ok := promEvents(api, boundary)
		if ok && int64(final) == exported {
			return true
		}
		if time.Since(lastLog) > 15*time.Second {
			lastLog = time.Now()
			t.Logf("  %s after the restart of prometheus: it holds %.0f of %d events", time.Since(up).Round(time.Second), final, exported)
		}
		return false
	}, recoveryLimit, 250*time.Millisecond) {
		recovered = time.Since(up)
	}
	final, ok := promEvents(api, boundary)
	if recovered >= 0 {
		t.Logf("recovery: prometheus holds all %d exported events %s after it was ready again (%s after the load ended)",
			exported, recovered.Round(time.Millisecond), time.Since(loadEnd).Round(time.Millisecond))
	} else {
		t.Errorf("recovery: %s after prometheus was ready again it holds %.0f events (found %v), the connector exported %d", recoveryLimit, final, ok, exported)
	}
	how := "sum(pulse_events_total)"
	if restartCollector {
		how = "per series, last value before the collector restart + last value after it"
	}
	t.Logf("final: prometheus %.0f (%s), acknowledged %d, in doubt %d: lost %d acknowledged events", final, how, acked, inDoubt, max(0, acked-int64(final)))
	if restartCollector {
		// Events of requests that were cut off by the restart may have been
		// counted: the store may hold up to inDoubt more than acknowledged.
		if int64(final) < acked || int64(final) > acked+inDoubt {
			t.Errorf("prometheus holds %.0f events; acknowledged %d, in doubt %d: want between %d and %d", final, acked, inDoubt, acked, acked+inDoubt)
		}
	} else if int64(final) != acked {
		t.Errorf("prometheus holds %.0f events, want the %d acknowledged", final, acked)
	}

	// Intermediate samples of the busiest series while the store was down:
	// the connector exported them, did they arrive later?
	attrs, times := truth.rwBusiestSeries()
	var matchers []string
	for k, v := range attrs {
		matchers = append(matchers, fmt.Sprintf("%s=%q", k, v))
	}
	sort.Strings(matchers)
	selector := "pulse_events_total{" + strings.Join(matchers, ",") + "}"
	gaps := func(name string, from, to time.Time) {
		stored := promSampleTimes(t, api, selector, from, to)
		var exportedN, arrived int
		for ms := range times {
			if ms > from.UnixMilli() && ms <= to.UnixMilli() {
				exportedN++
				if stored[ms] {
					arrived++
				}
			}
		}
		extra := len(stored) - arrived
		t.Logf("  %s (%s): %d samples exported, %d in prometheus, %d missing, %d in prometheus but not exported",
			name, to.Sub(from).Round(time.Second), exportedN, arrived, exportedN-arrived, extra)
	}
	t.Logf("samples of the busiest series %s:", selector)
	gaps("before the outage", loadStart, downAt)
	if restartCollector {
		gaps("outage, first collector", down, pulseDown)
		gaps("outage, second collector", boundary, upAt)
	} else {
		gaps("during the outage", down, upAt)
	}
	gaps("after the outage", up, loadEnd)

	t.Logf("remote-write exporter telemetry (last collector):\n%s", rwTelemetry(ports["telemetry"]))
	outs := append(slices.Clone(outputs), c.out.String())
	var dropped, walErrs []string
	for _, o := range outs {
		dropped = append(dropped, rwLogLines(o, "dropping write-ahead log batch")...)
		walErrs = append(walErrs, rwLogLines(o, "error processing WAL entries")...)
	}
	ooo := rwLogLines(prom.out.String(), "Out of order sample")
	statuses := map[string]int{}
	for _, o := range outs {
		for _, l := range strings.Split(o, "\n") {
			if i := strings.Index(l, `"status_code": `); i >= 0 && strings.Contains(l, "failed to send WriteRequest") {
				code, _, _ := strings.Cut(l[i+len(`"status_code": `):], ",")
				statuses[code]++
			}
		}
	}
	t.Logf("requests the store answered with an error, by status (the collector's log is sampled): %v", statuses)
	t.Logf("collector logs: %d WAL batches dropped as rejected by the store, %d failed WAL exports (kept and sent again); prometheus logs: %d out-of-order/duplicate rejections",
		len(dropped), len(walErrs), len(ooo))
	for _, l := range slices.Concat(dropped[:min(len(dropped), 3)], ooo[:min(len(ooo), 3)]) {
		t.Logf("  %s", l)
	}
	c.stop(t)
	prom.stop(t)
}
