package forgetextension

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withForgotten returns an extension (not started, no storage) whose set
// holds n users, "user-0" to "user-<n-1>".
func withForgotten(tb testing.TB, n int) *forgetExtension {
	tb.Helper()
	ext, err := newExtension(&Config{Key: testKey}, extensionSettings())
	require.NoError(tb, err)
	recs := make([]record, n)
	for i := range recs {
		recs[i] = record{subject: ext.hasher.subject(fmt.Sprintf("user-%d", i)), receivedAt: time.Unix(0, 0).UTC()}
		recs[i].id[0], recs[i].id[1], recs[i].id[2] = byte(i), byte(i>>8), byte(i>>16)
	}
	ext.install(recs)
	return ext
}

func TestForgottenDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	for _, n := range []int{0, 10_000} {
		ext := withForgotten(t, n)
		assert.Equal(t, n > 0, ext.Forgotten("user-9999"))
		assert.False(t, ext.Forgotten("user-10000"))
		allocs := testing.AllocsPerRun(1000, func() {
			_ = ext.Forgotten("user-9999")
			_ = ext.Forgotten(longUser)
		})
		assert.Zero(t, allocs, "set of %d", n)
	}
}

// longUser is longer than one SHA-256 block many times over.
var longUser = "someone-else-" + strings.Repeat("x", 1000)

func BenchmarkForgotten(b *testing.B) {
	for _, bc := range []struct {
		name string
		n    int
		user string
	}{
		{"empty", 0, "user-42"},
		{"10k/miss", 10_000, "someone-else"},
		{"10k/hit", 10_000, "user-42"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ext := withForgotten(b, bc.n)
			want := bc.n > 0 && bc.user == "user-42"
			b.ReportAllocs()
			for b.Loop() {
				if ext.Forgotten(bc.user) != want {
					b.Fatal("wrong answer")
				}
			}
		})
	}
	b.Run("10k/parallel", func(b *testing.B) {
		ext := withForgotten(b, 10_000)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = ext.Forgotten("user-42")
			}
		})
	})
}

// TestForgottenWhileForgetting reads the set while requests swap it; run
// with -race.
func TestForgottenWhileForgetting(t *testing.T) {
	ext := withForgotten(t, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 100; i < 300; i++ {
			_, created, err := ext.forget(t.Context(), fmt.Sprintf("user-%d", i), time.Now())
			assert.NoError(t, err)
			assert.True(t, created)
		}
	}()
	for {
		select {
		case <-done:
			for i := range 300 {
				assert.True(t, ext.Forgotten(fmt.Sprintf("user-%d", i)))
			}
			assert.Equal(t, 300, ext.count())
			return
		default:
			assert.True(t, ext.Forgotten("user-7"))
			assert.False(t, ext.Forgotten("user-300"))
		}
	}
}
