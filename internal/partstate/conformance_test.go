package partstate

import (
	"bytes"
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// backend opens owners (processes) on one fresh shared store.
type backend interface {
	open(t *testing.T) Store
}

// testConformance is what every Store must do; newBackend gives each
// subtest its own empty store.
func testConformance(t *testing.T, newBackend func(t *testing.T) backend) {
	t.Helper()
	ctx := context.Background()
	claim := func(t *testing.T, s Store, p int32) ([]byte, uint64) {
		t.Helper()
		state, epoch, err := s.Claim(ctx, p)
		require.NoError(t, err)
		return state, epoch
	}

	t.Run("round trip", func(t *testing.T) {
		b := newBackend(t)
		a := b.open(t)
		state, e1, err := a.Claim(ctx, 3)
		require.NoError(t, err)
		assert.Nil(t, state, "nothing saved yet")
		require.NoError(t, a.Save(ctx, 3, e1, []byte("s1")))
		require.NoError(t, a.Save(ctx, 3, e1, []byte("s2")))
		state, e2 := claim(t, a, 3)
		assert.Equal(t, "s2", string(state))
		assert.Greater(t, e2, e1, "a claim takes a new epoch")
		assert.True(t, a.Lost(3, e1), "the old epoch is superseded")
		assert.False(t, a.Lost(3, e2))
		require.ErrorIs(t, a.Save(ctx, 3, e1, []byte("stale")), ErrLost)
		require.NoError(t, a.Save(ctx, 3, e2, []byte{}))
		state, _ = claim(t, a, 3)
		assert.NotNil(t, state, "an empty saved state is not 'nothing saved'")
		assert.Empty(t, state)
		state, _ = claim(t, a, 4)
		assert.Nil(t, state, "partitions are independent")
	})

	t.Run("two owners", func(t *testing.T) {
		b := newBackend(t)
		a, o := b.open(t), b.open(t)
		_, ea := claim(t, a, 1)
		_, ea2 := claim(t, a, 2)
		require.NoError(t, a.Save(ctx, 1, ea, []byte("s1")))
		require.NoError(t, a.Save(ctx, 2, ea2, []byte("other")))

		state, eb := claim(t, o, 1)
		assert.Equal(t, "s1", string(state))
		assert.Greater(t, eb, ea)
		eventually(t, func() bool { return a.Lost(1, ea) }, "A sees B's claim")
		assert.False(t, o.Lost(1, eb))
		assert.False(t, a.Lost(2, ea2), "B claimed partition 1 only")
		require.ErrorIs(t, a.Save(ctx, 1, ea, []byte("stale")), ErrLost)
		require.NoError(t, o.Save(ctx, 1, eb, []byte("b1")))
		require.NoError(t, o.Save(ctx, 1, eb, []byte("b2")))
		require.NoError(t, a.Save(ctx, 2, ea2, []byte("other2")))

		state, ea3 := claim(t, a, 1)
		assert.Equal(t, "b2", string(state), "A takes B's latest back")
		eventually(t, func() bool { return o.Lost(1, eb) }, "B sees A's claim")
		require.ErrorIs(t, o.Save(ctx, 1, eb, []byte("stale")), ErrLost)
		require.NoError(t, a.Save(ctx, 1, ea3, []byte("a3")))
		state, _ = claim(t, o, 2)
		assert.Equal(t, "other2", string(state))
	})

	t.Run("large state", func(t *testing.T) {
		b := newBackend(t)
		a := b.open(t)
		big := make([]byte, 3<<20+12345)
		r := rand.New(rand.NewPCG(1, 2))
		for i := range big {
			big[i] = byte(r.Uint32())
		}
		_, e := claim(t, a, 0)
		require.NoError(t, a.Save(ctx, 0, e, big))
		small := []byte("smaller, fewer chunks")
		o := b.open(t)
		state, e2 := claim(t, o, 0)
		require.True(t, bytes.Equal(big, state), "3 MiB state round trips byte-exactly (got %d bytes)", len(state))
		require.NoError(t, o.Save(ctx, 0, e2, small))
		state, _ = claim(t, a, 0)
		assert.Equal(t, small, state, "a later snapshot with fewer chunks wins")
	})

	t.Run("restart", func(t *testing.T) {
		b := newBackend(t)
		a := b.open(t)
		_, e := claim(t, a, 5)
		require.NoError(t, a.Save(ctx, 5, e, []byte("before restart")))
		require.NoError(t, a.Close())
		a2 := b.open(t)
		state, e2 := claim(t, a2, 5)
		assert.Equal(t, "before restart", string(state))
		assert.Greater(t, e2, e)
	})

	t.Run("concurrent claims", func(t *testing.T) {
		b := newBackend(t)
		owners := []Store{b.open(t), b.open(t)}
		for round := range 5 {
			var wg sync.WaitGroup
			epochs := make([]uint64, len(owners))
			errs := make([]error, len(owners))
			for i, s := range owners {
				wg.Go(func() { _, epochs[i], errs[i] = s.Claim(ctx, 7) })
			}
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err, "round %d", round)
			}
			require.NotEqual(t, epochs[0], epochs[1], "round %d: one epoch, one owner", round)
			win, lose := 0, 1
			if epochs[1] > epochs[0] {
				win, lose = 1, 0
			}
			eventually(t, func() bool { return owners[lose].Lost(7, epochs[lose]) }, "the earlier epoch's owner sees Lost")
			assert.False(t, owners[win].Lost(7, epochs[win]), "round %d: the winner keeps the partition", round)
			require.ErrorIs(t, owners[lose].Save(ctx, 7, epochs[lose], []byte("loser")), ErrLost, "round %d", round)
			require.NoError(t, owners[win].Save(ctx, 7, epochs[win], []byte{byte(round)}), "round %d", round)
		}
		state, _ := claim(t, b.open(t), 7)
		assert.Equal(t, []byte{4}, state)
	})

	t.Run("closed", func(t *testing.T) {
		b := newBackend(t)
		a := b.open(t)
		_, e := claim(t, a, 0)
		require.NoError(t, a.Close())
		require.ErrorIs(t, a.Save(ctx, 0, e, []byte("x")), ErrClosed)
		_, _, err := a.Claim(ctx, 0)
		require.ErrorIs(t, err, ErrClosed)
		assert.True(t, a.Lost(0, e), "a closed store owns nothing")
		require.NoError(t, a.Close(), "Close twice")
	})
}

// eventually polls cond for up to 5 s: another owner's claim reaches
// Lost through the store's own reading, not synchronously.
func eventually(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 5s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type memBackend struct{ m *Memory }

func (b memBackend) open(t *testing.T) Store {
	t.Helper()
	h := b.m.Handle()
	t.Cleanup(func() { _ = h.Close() })
	return h
}

func TestMemoryConformance(t *testing.T) {
	testConformance(t, func(*testing.T) backend { return memBackend{NewMemory()} })
}

func TestMemoryCtx(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := NewMemory().Handle()
	_, _, err := s.Claim(ctx, 0)
	require.ErrorIs(t, err, context.Canceled)
}
