package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/pulse-otel/pulse/testbed/loadgen"
)

// The fault tests check the durability contract of the shipped pipeline
// (no batch processor, analytics_metrics with wait_for_export, promstore):
// every acknowledged event is in the store, even across SIGKILL, and
// nothing is counted more than what was sent.

// faultRig keeps a collector's data directory and its addresses across
// restarts, so that a new process takes over where the previous one
// stopped: the same store, and the same endpoints for the clients.
type faultRig struct {
	dir, api, events, health string
}

func newFaultRig(t *testing.T) *faultRig {
	t.Helper()
	return &faultRig{dir: t.TempDir(), api: freePort(t), events: freePort(t), health: freePort(t)}
}

// start runs the promstore pipeline on the rig's directory and ports and
// waits for health.
func (r *faultRig) start(t *testing.T) *collector {
	t.Helper()
	return startCollectorWith(t, &sink{}, func(c *collector, _ string) string {
		c.dir, c.events, c.health = r.dir, r.events, r.health
		writePrivacyKey(t, r.dir)
		return promstorePipeline(c, r.api)
	})
}

// sigkill kills the collector without warning and waits for it to be gone.
func sigkill(t *testing.T, c *collector) {
	t.Helper()
	if err := syscall.Kill(c.p.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.p.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("collector still running 10s after SIGKILL")
	}
}

// storedAcrossRestarts returns how many events promstore holds in
// pulse_events_total when the collector was restarted at the given times.
// Counters start again at 0 in every new process, so the restart times cut
// each series' raw samples into segments (one per process) and the stored
// total is the sum, over series and segments, of the segment's last value.
// Samples of a process all precede the start of the next one. This is
// exact, unlike increase(), which extrapolates.
func storedAcrossRestarts(t *testing.T, api string, restarts []time.Time) int64 {
	t.Helper()
	perProcess := storedPerProcess(t, api, restarts)
	var total int64
	for _, n := range perProcess {
		total += n
	}
	t.Logf("stored: %d events in pulse_events_total, per process %v", total, perProcess)
	return total
}

// storedPerProcess is storedAcrossRestarts by segment: element i is what
// the process started after restart i-1 (0: before the first restart)
// stored.
func storedPerProcess(t *testing.T, api string, restarts []time.Time) []int64 {
	t.Helper()
	resp, err := http.Get(api + "/api/v1/query?query=" + url.QueryEscape("pulse_events_total[15m]"))
	if err != nil {
		t.Fatalf("querying promstore: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &r); err != nil || r.Status != "success" || r.Data.ResultType != "matrix" {
		t.Fatalf("pulse_events_total[15m]: status %d, want a matrix: %v %s", resp.StatusCode, err, raw)
	}
	bounds := make([]int64, len(restarts))
	for i, at := range restarts {
		bounds[i] = at.UnixMilli()
	}
	slices.Sort(bounds)
	perSegment := make([]int64, len(bounds)+1)
	for _, s := range r.Data.Result {
		last := make([]float64, len(bounds)+1)
		lastAt := make([]int64, len(bounds)+1)
		for _, v := range s.Values {
			ts, ok := v[0].(float64)
			str, _ := v[1].(string)
			val, err := strconv.ParseFloat(str, 64)
			if !ok || err != nil || val < 0 || val != math.Trunc(val) {
				t.Fatalf("series %v: sample %v is not an event count", s.Metric, v)
			}
			ms := int64(math.Round(ts * 1000))
			// The number of restarts at or before the sample is its segment.
			seg := sort.Search(len(bounds), func(i int) bool { return bounds[i] > ms })
			if ms >= lastAt[seg] {
				last[seg], lastAt[seg] = val, ms
			}
		}
		for seg, v := range last {
			perSegment[seg] += int64(v)
		}
	}
	return perSegment
}

// TestSIGKILLMidLoadLosesNothingAcknowledged kills the collector without
// warning under 2,000 events/s and restarts it at once on the same store
// and ports while the load goes on: every acknowledged event must be
// stored, and no more than were sent.
func TestSIGKILLMidLoadLosesNothingAcknowledged(t *testing.T) {
	restartMidLoad(t, "SIGKILL", sigkill)
}

// TestRestartMidLoadLosesNothingAcknowledged is the same with a graceful
// stop (SIGTERM) instead of SIGKILL.
func TestRestartMidLoadLosesNothingAcknowledged(t *testing.T) {
	restartMidLoad(t, "SIGTERM", func(t *testing.T, c *collector) { t.Helper(); c.stop(t) })
}

func restartMidLoad(t *testing.T, how string, interrupt func(*testing.T, *collector)) {
	t.Helper()
	rig := newFaultRig(t)
	c := rig.start(t)

	loadStart := time.Now()
	prog, stopLoad := startLoad(t, loadgen.Config{
		URL: "http://" + rig.events, Rate: 2000, Batch: 50, Users: 500, Sessions: 2000, PIIShare: 0.1, Workers: 16, Seed: 7,
	}, 40*time.Second)

	time.Sleep(2 * time.Second)
	ackedBefore := prog.Accepted.Load()
	if ackedBefore == 0 {
		t.Fatalf("no event acknowledged in the 2 s before the %s", how)
	}
	interruptAt := time.Now()
	interrupt(t, c)
	// The old process is gone, so whatever is acknowledged from now on
	// was answered by the new one.
	acked0 := prog.Accepted.Load()
	restartAt := time.Now()
	firstOK := make(chan time.Time, 1)
	pollDone := make(chan struct{})
	defer close(pollDone)
	go func() {
		for prog.Accepted.Load() == acked0 {
			select {
			case <-pollDone:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
		firstOK <- time.Now()
	}()
	c = rig.start(t)
	healthyAt := time.Now()

	time.Sleep(time.Until(restartAt.Add(2 * time.Second)))
	var recoveredAt time.Time
	select {
	case recoveredAt = <-firstOK:
	case <-time.After(15 * time.Second):
		t.Fatalf("no request acknowledged within 17 s of the restart after %s", how)
	}
	st := stopLoad()
	t.Logf("%s %s after the load started (%d events acknowledged by then); process down for %s, healthy %s after the restart",
		how, interruptAt.Sub(loadStart).Round(time.Millisecond), ackedBefore,
		restartAt.Sub(interruptAt).Round(time.Millisecond), healthyAt.Sub(restartAt).Round(time.Millisecond))
	t.Logf("recovery: first 200 %s after the %s, %s after the restart",
		recoveredAt.Sub(interruptAt).Round(time.Millisecond), how, recoveredAt.Sub(restartAt).Round(time.Millisecond))
	t.Logf("load: sent %d events in %d requests over %s; acknowledged %d, rejected %d, failed requests %d, statuses %v",
		st.Sent, st.Requests, st.Elapsed.Round(time.Millisecond), st.Accepted, st.Rejected, st.Failed, st.Status)

	// A graceful stop flushes whatever is still aggregated; the next
	// process answers the query from the same store.
	c.stop(t)
	finalAt := time.Now()
	c = rig.start(t)
	restarts := []time.Time{restartAt, finalAt}
	stored := storedAcrossRestarts(t, "http://"+rig.api, restarts)
	perProcess := storedPerProcess(t, "http://"+rig.api, restarts)
	c.stop(t)
	t.Logf("process before the %s: acknowledged %d, stored %d; after: acknowledged %d, stored %d",
		how, acked0, perProcess[0], st.Accepted-acked0, perProcess[1]+perProcess[2])

	t.Logf("sent %d, acknowledged %d, stored %d: %d stored but not acknowledged (requests that failed on the client side, at least once), %d counted beyond what was sent",
		st.Sent, st.Accepted, stored, max(stored-st.Accepted, 0), max(stored-st.Sent, 0))
	if st.Accepted <= ackedBefore {
		t.Errorf("no event acknowledged after the restart (%d before the %s, %d in all)", ackedBefore, how, st.Accepted)
	}
	if stored < st.Accepted {
		t.Errorf("LOST ACKNOWLEDGED EVENTS across %s: %d acknowledged, only %d stored (%d missing)", how, st.Accepted, stored, st.Accepted-stored)
	}
	if stored > st.Sent {
		t.Errorf("COUNTED MORE THAN SENT across %s: %d sent, %d stored (%d extra)", how, st.Sent, stored, stored-st.Sent)
	}
}

// floodKind is one kind of bad request and the status it must get.
type floodKind struct {
	name, path, contentType, encoding string
	body                              []byte
	want                              int
}

// TestMalformedFloodBesideGoodTraffic sends good traffic at 1,000 events/s
// while four goroutines flood the receiver with bad requests as fast as it
// answers: every good request must be answered 200 and be stored exactly,
// every bad one must get its 4xx, and the collector must stay healthy.
func TestMalformedFloodBesideGoodTraffic(t *testing.T) {
	rig := newFaultRig(t)
	c := rig.start(t)
	base := "http://" + rig.events
	now := time.Now().UnixMilli()
	// Bodies carry a valid event wherever the request is bad for another
	// reason, so that one wrongly accepted shows up in the store.
	valid := []byte("[" + event("flood-valid", now) + "]")
	oversize := []byte("[" + event("flood-big", now) + strings.Repeat(" ", 6<<20) + "]")
	kinds := []floodKind{
		{"malformed JSON", "/v1/events", "application/json", "", []byte(`[{"eventId":"m-1","sessionId":`), http.StatusBadRequest},
		{"6 MiB body", "/v1/events", "application/json", "", oversize, http.StatusRequestEntityTooLarge},
		{"wrong Content-Type", "/v1/events", "text/plain", "", valid, http.StatusUnsupportedMediaType},
		{"every event invalid", "/v1/events", "application/json", "", []byte(`[{"eventId":"bad-1","platform":"bb"},{"eventId":"bad-2"}]`), http.StatusBadRequest},
		{"gzip garbage", "/v1/events", "application/json", "gzip", []byte("this is not gzip at all, just bytes \x00\x01\x02"), http.StatusBadRequest},
		{"unknown path", "/v1/nope", "application/json", "", valid, http.StatusNotFound},
	}

	const flooders = 4
	// statuses[g][k][status] and failures[g][k], per goroutine: no locks.
	statuses := make([][]map[int]int64, flooders)
	failures := make([][]int64, flooders)
	firstErr := make([]error, flooders)
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: flooders}}
	defer client.CloseIdleConnections()
	var stopFlood atomic.Bool
	var wg sync.WaitGroup
	floodStart := time.Now()
	for g := range flooders {
		statuses[g] = make([]map[int]int64, len(kinds))
		for k := range kinds {
			statuses[g][k] = map[int]int64{}
		}
		failures[g] = make([]int64, len(kinds))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; !stopFlood.Load(); i++ {
				k := i % len(kinds)
				f := kinds[k]
				req, err := http.NewRequest(http.MethodPost, base+f.path, bytes.NewReader(f.body))
				if err != nil {
					panic(err)
				}
				req.Header.Set("Content-Type", f.contentType)
				if f.encoding != "" {
					req.Header.Set("Content-Encoding", f.encoding)
				}
				resp, err := client.Do(req)
				if err != nil {
					failures[g][k]++
					if firstErr[g] == nil {
						firstErr[g] = fmt.Errorf("%s: %w", f.name, err)
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				statuses[g][k][resp.StatusCode]++
			}
		}()
	}

	const rate, seconds = 1000, 3
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := loadgen.Run(ctx, loadgen.Config{
		URL: base, Rate: rate, Batch: 50, Users: 500, Sessions: 2000, PIIShare: 0.1, Workers: 8, Seed: 11,
	}, rate*seconds, nil)
	stopFlood.Store(true)
	floodTime := time.Since(floodStart)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}

	var floodRequests int64
	bad := false
	for k, f := range kinds {
		byStatus := map[int]int64{}
		var failed int64
		for g := range flooders {
			for s, n := range statuses[g][k] {
				byStatus[s] += n
				floodRequests += n
			}
			failed += failures[g][k]
		}
		floodRequests += failed
		t.Logf("flood %-20s want %d: statuses %v, failed requests %d", f.name, f.want, byStatus, failed)
		for s, n := range byStatus {
			if s != f.want {
				bad = true
				t.Errorf("flood %s: %d requests answered %d, want %d", f.name, n, s, f.want)
			}
		}
		if failed > 0 {
			bad = true
			t.Errorf("flood %s: %d requests got no answer", f.name, failed)
		}
		if byStatus[f.want] == 0 {
			t.Errorf("flood %s: no request answered", f.name)
		}
	}
	if bad {
		for g, err := range firstErr {
			if err != nil {
				t.Logf("flooder %d, first transport error: %v", g, err)
			}
		}
	}
	t.Logf("flood: %d bad requests in %s (%.0f requests/s) from %d goroutines",
		floodRequests, floodTime.Round(time.Millisecond), float64(floodRequests)/floodTime.Seconds(), flooders)
	t.Logf("good traffic: sent %d events in %d requests over %s (%.0f events/s acknowledged): accepted %d, rejected %d, failed requests %d, statuses %v",
		st.Sent, st.Requests, st.Elapsed.Round(time.Millisecond), float64(st.Accepted)/st.Elapsed.Seconds(), st.Accepted, st.Rejected, st.Failed, st.Status)
	if st.Sent != rate*seconds || st.Failed != 0 || st.Status[http.StatusOK] != st.Requests || st.Accepted != st.Sent {
		t.Errorf("every good request must be answered 200 with every event accepted: sent %d, accepted %d, failed %d, statuses %v",
			st.Sent, st.Accepted, st.Failed, st.Status)
	}

	const q = "sum(pulse_events_total)"
	apiBase := "http://" + rig.api
	assert.Eventually(t, func() bool { v, ok := instant(t, apiBase, q); return ok && int64(v) == st.Accepted }, 15*time.Second, 50*time.Millisecond,
		"%s never reached the %d good events accepted", q, st.Accepted)
	// One more flush must not add anything.
	time.Sleep(700 * time.Millisecond)
	got, _ := instant(t, apiBase, q)
	t.Logf("stored: %s = %.0f, good events accepted %d", q, got, st.Accepted)
	if int64(got) != st.Accepted || got != math.Trunc(got) {
		t.Errorf("%s = %v, want exactly the %d good events accepted", q, got, st.Accepted)
	}

	resp, err := http.Get("http://" + rig.health + "/")
	if err != nil {
		t.Fatalf("health check after the flood: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("health check after the flood: status %d", resp.StatusCode)
	}
	if status, a := post(t, base+"/v1/events", "["+event("after-flood", time.Now().UnixMilli())+"]"); status != http.StatusOK || a.Accepted != 1 {
		t.Fatalf("a good request after the flood: status %d, answer %+v", status, a)
	}
	c.stop(t)
}
