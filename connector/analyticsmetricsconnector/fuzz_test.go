package analyticsmetricsconnector

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// memClient is a storage.Client over a map.
type memClient struct{ m map[string][]byte }

func (c *memClient) Get(_ context.Context, k string) ([]byte, error) { return c.m[k], nil }
func (c *memClient) Set(_ context.Context, k string, v []byte) error { c.m[k] = v; return nil }
func (c *memClient) Delete(_ context.Context, k string) error        { delete(c.m, k); return nil }
func (c *memClient) Batch(context.Context, ...*storage.Operation) error {
	return nil
}
func (c *memClient) Close(context.Context) error { return nil }

// FuzzLoadState feeds arbitrary bytes to the saved-state decoder (user
// filter, active-user sketches, cohorts): it must never panic, and a state
// it rejects must leave the connector's own state usable.
func FuzzLoadState(f *testing.F) {
	c, _ := newTestConnector(f, func(cfg *Config) { cfg.ExpectedUsers = 1000 })
	c.client = &memClient{m: map[string][]byte{}}
	now := time.Now()
	for _, u := range []string{"a", "b", "c"} {
		c.users.Add(u, now)
		c.seen.AddString(u)
		c.cohorts.observe(u, now, true)
	}
	if err := c.save(context.Background()); err != nil {
		f.Fatal(err)
	}
	valid := c.client.(*memClient).m[stateKey]
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	parts := splitState(f, valid)
	parts[len(parts)-1] = []byte{0xff} // every part decodes but the last
	f.Add(joinState(parts))
	f.Add([]byte{0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, _ := newTestConnector(t, func(cfg *Config) { cfg.ExpectedUsers = 1000 })
		d.client = &memClient{m: map[string][]byte{stateKey: b}}
		users, seen, cohorts, dedup, join := d.users, d.seen, d.cohorts, d.dedup, d.join
		if err := d.load(context.Background()); err != nil {
			// A rejected state changes nothing: the connector keeps the
			// structures it had, still empty.
			if d.users != users || d.seen != seen || d.cohorts != cohorts || d.dedup != dedup || d.join != join {
				t.Fatalf("rejected state %v replaced part of the connector's state", err)
			}
			if est, err := d.users.Estimate("1d", time.Now()); err != nil || est != 0 {
				t.Fatalf("after a rejected state: %d active users (%v), want 0", est, err)
			}
			if d.seen.TestString("z") || d.dedup.seen(kindEvent, "z", 1) {
				t.Fatal("after a rejected state: a user or id of it is remembered")
			}
		}
		// Accepted or not, the state must be usable.
		now := time.Now()
		d.users.Add("z", now)
		d.seen.TestAndAddString("z")
		d.cohorts.observe("z", now, true)
		d.dedup.seen(kindEvent, "z", 1)
		d.join.remember(idHash(kindRecommendation, "z"), recLabels{"coach", "1", "workout"}, 1)
	})
}
