package analyticsmetricsconnector

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// splitState returns the length-prefixed parts of a saved state.
func splitState(t testing.TB, buf []byte) [][]byte {
	t.Helper()
	var parts [][]byte
	for len(buf) > 0 {
		n, k := binary.Uvarint(buf)
		require.Positive(t, k)
		require.LessOrEqual(t, n, uint64(len(buf)-k))
		parts, buf = append(parts, buf[k:k+int(n)]), buf[k+int(n):]
	}
	return parts
}

func joinState(parts [][]byte) []byte {
	var buf []byte
	for _, p := range parts {
		buf = binary.AppendUvarint(buf, uint64(len(p)))
		buf = append(buf, p...)
	}
	return buf
}

// TestLoadRejectedStateChangesNothing saves a state whose last part (the
// recommendation join table) is damaged: load must fail and leave every
// structure as it was, not keep the user filter, sketches, cohorts and dedup
// ids decoded before the damaged part.
func TestLoadRejectedStateChangesNothing(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	c, _ := newTestConnector(t, nil)
	c.client = &memClient{m: map[string][]byte{}}
	for _, u := range []string{"a", "b", "c"} {
		c.users.Add(u, now)
		c.seen.AddString(u)
		c.cohorts.observe(u, now, true)
		c.dedup.seen(kindEvent, u, 1)
	}
	require.NoError(t, c.save(ctx))
	parts := splitState(t, c.client.(*memClient).m[stateKey])
	require.Len(t, parts, 5)
	parts[4] = []byte{0xff}

	d, _ := newTestConnector(t, nil)
	d.client = &memClient{m: map[string][]byte{stateKey: joinState(parts)}}
	users, seen, cohorts, dedup, join := d.users, d.seen, d.cohorts, d.dedup, d.join
	require.Error(t, d.load(ctx))
	assert.Same(t, users, d.users, "active-user sketches")
	assert.Same(t, seen, d.seen, "user filter")
	assert.Same(t, cohorts, d.cohorts, "cohorts")
	assert.Same(t, dedup, d.dedup, "dedup ids")
	assert.Same(t, join, d.join, "join table")
	est, err := d.users.Estimate("1d", now)
	require.NoError(t, err)
	assert.Zero(t, est, "no user of the rejected state is counted")
	assert.False(t, d.seen.TestString("a"), "no user of the rejected state is in the filter")
	assert.False(t, d.dedup.seen(kindEvent, "a", 1), "no id of the rejected state is a duplicate")
}
