package analyticsmetricsconnector

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/pulse-otel/pulse/internal/hll"
)

// State persistence: one key holding the user filter, the active-user
// sketches, the cohorts, the dedup ids and the recommendation join table,
// each length-prefixed. State saved under the v2 key (without the last
// two) is still loaded.
const (
	stateKey   = "analytics_metrics.state.v3"
	stateKeyV2 = "analytics_metrics.state.v2"
)

func (c *analyticsConnector) save(ctx context.Context) error {
	c.mu.Lock()
	filter, err1 := c.seen.MarshalBinary()
	ring, err2 := c.users.MarshalBinary()
	cohorts, err3 := c.cohorts.MarshalBinary()
	ids, err4 := c.dedup.MarshalBinary()
	join, err5 := c.join.MarshalBinary()
	c.mu.Unlock()
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return err
	}
	var buf []byte
	for _, part := range [][]byte{filter, ring, cohorts, ids, join} {
		buf = binary.AppendUvarint(buf, uint64(len(part)))
		buf = append(buf, part...)
	}
	return c.client.Set(ctx, stateKey, buf)
}

func (c *analyticsConnector) load(ctx context.Context) error {
	nparts := 5
	buf, err := c.client.Get(ctx, stateKey)
	if err == nil && buf == nil {
		nparts = 3
		buf, err = c.client.Get(ctx, stateKeyV2)
	}
	if err != nil {
		return fmt.Errorf("storage: reading state: %w", err)
	}
	if buf == nil {
		return nil
	}
	var parts [5][]byte
	for i := range parts[:nparts] {
		n, k := binary.Uvarint(buf)
		if k <= 0 || uint64(len(buf)-k) < n {
			return fmt.Errorf("storage: saved state is corrupt (part %d)", i)
		}
		parts[i], buf = buf[k:k+int(n)], buf[k+int(n):]
	}
	// All or nothing: decode every part into fresh structures and swap them
	// in only once all parts are accepted, so a rejected state leaves the
	// connector as it was.
	seen, err := unmarshalFilter(parts[0])
	if err != nil {
		return fmt.Errorf("storage: saved user filter: %w", err)
	}
	users, err := hll.NewRing(c.windowList)
	if err != nil {
		return err
	}
	if err := users.UnmarshalBinary(parts[1]); err != nil {
		return fmt.Errorf("storage: saved active-user sketches: %w", err)
	}
	cohorts := newCohorts(c.cfg.ExpectedUsers)
	if err := cohorts.UnmarshalBinary(parts[2]); err != nil {
		return fmt.Errorf("storage: saved cohorts: %w", err)
	}
	dedup, join := c.dedup, c.join // a v2 state has neither: keep the current ones
	if nparts == 5 {
		dedup = newDedup(c.cfg.Dedup.Window, c.cfg.Dedup.MaxIDs)
		if err := dedup.UnmarshalBinary(parts[3]); err != nil {
			return fmt.Errorf("storage: saved dedup ids: %w", err)
		}
		join = newJoinTable(c.cfg.RecommendationJoin.MaxEntries, uint32(c.cfg.RecommendationJoin.MaxAge/time.Second))
		if err := join.UnmarshalBinary(parts[4]); err != nil {
			return fmt.Errorf("storage: saved recommendation join table: %w", err)
		}
	}
	c.mu.Lock()
	c.seen, c.users, c.cohorts, c.dedup, c.join = seen, users, cohorts, dedup, join
	c.mu.Unlock()
	return nil
}
