package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pulse-otel/pulse/testbed/loadgen"
)

// TestBurstAboveCapacity sends a burst of far more concurrent requests than
// the receiver admits (max_concurrent_requests 8, each request held until
// the connector's export): the excess is answered 429 with Retry-After at
// once, nothing else fails, and every acknowledged event is counted exactly
// once in promstore. Clients that honour Retry-After then get everything in.
func TestBurstAboveCapacity(t *testing.T) {
	api := freePort(t)
	c := startCollectorWith(t, &sink{}, func(c *collector, _ string) string {
		writePrivacyKey(t, c.dir)
		cfg := promstorePipeline(c, api)
		return strings.Replace(cfg, "  analytics:\n    endpoint: "+c.events+"\n",
			"  analytics:\n    endpoint: "+c.events+"\n    max_concurrent_requests: 8\n", 1)
	})
	url := "http://" + c.events

	// The burst: 128 concurrent senders, no retries, 20,000 events.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	burst, err := loadgen.Run(ctx, loadgen.Config{URL: url, Batch: 50, Workers: 128, Users: 500, Sessions: 1000, Seed: 11}, 20_000, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("burst: %d requests in %s, statuses %v (%d with Retry-After), failed %d; %d of %d events acknowledged",
		burst.Requests, burst.Elapsed.Round(time.Millisecond), burst.Status, burst.RetryAfter, burst.Failed, burst.Accepted, burst.Sent)
	if burst.Failed != 0 || burst.Status[http.StatusOK]+burst.Status[http.StatusTooManyRequests] != burst.Requests {
		t.Fatalf("every request must be answered 200 or 429: %+v", burst.Status)
	}
	if burst.Status[http.StatusTooManyRequests] == 0 {
		t.Fatalf("128 concurrent requests against max_concurrent_requests 8 were all admitted: %v", burst.Status)
	}
	if burst.RetryAfter != burst.Status[http.StatusTooManyRequests] {
		t.Fatalf("%d of %d 429 answers carried Retry-After", burst.RetryAfter, burst.Status[http.StatusTooManyRequests])
	}
	if burst.Accepted != burst.Status[http.StatusOK]*50 {
		t.Fatalf("acknowledged %d events in %d answers of 200", burst.Accepted, burst.Status[http.StatusOK])
	}
	q := "sum(pulse_events_total)"
	waitFor(t, fmt.Sprintf("%s to reach %d", q, burst.Accepted), func() bool {
		v, ok := instant(t, "http://"+api, q)
		return ok && int64(v) == burst.Accepted
	})

	// The same burst from clients that retry after Retry-After.
	retried, err := loadgen.Run(ctx, loadgen.Config{URL: url, Batch: 50, Workers: 32, Users: 500, Sessions: 1000, Seed: 12, Retry: true}, 5_000, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("retrying clients: %d requests in %s, %d retries, statuses %v, %d of %d events acknowledged",
		retried.Requests, retried.Elapsed.Round(time.Millisecond), retried.Retried, retried.Status, retried.Accepted, retried.Sent)
	if retried.Accepted != retried.Sent {
		t.Fatalf("clients honouring Retry-After got %d of %d events in: %v", retried.Accepted, retried.Sent, retried.Status)
	}
	want := burst.Accepted + retried.Accepted
	waitFor(t, fmt.Sprintf("%s to reach %d", q, want), func() bool {
		v, ok := instant(t, "http://"+api, q)
		return ok && int64(v) == want
	})
	c.stop(t)
}
