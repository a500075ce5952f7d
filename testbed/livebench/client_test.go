package livebench

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadEventsLineEndings(t *testing.T) {
	body := "retry: 1000\r\n\r\n: ping\n\nevent: full\ndata: {\"a\":\ndata: 1}\n\nevent: delta\rdata: x\r\r\ndata: torn"
	var got []Event
	err := ReadEvents(strings.NewReader(body), func(ev Event) error {
		ev.Data = append([]byte(nil), ev.Data...)
		got = append(got, ev)
		return nil
	})
	require.ErrorContains(t, err, "unexpected EOF", "a torn last line is an error, not an event")
	require.Len(t, got, 3)
	assert.Equal(t, 1000, got[0].Retry)
	assert.Equal(t, "full", got[1].Name)
	assert.Equal(t, "{\"a\":\n1}", string(got[1].Data))
	assert.Equal(t, "delta", got[2].Name)
	assert.Equal(t, "x", string(got[2].Data))
	assert.Equal(t, len("event: full\ndata: {\"a\":\ndata: 1}\n\n"), got[1].Size)
}

// A subscriber keeps the watched stat across full and delta frames: a
// delta without the target leaves it, "series":[] empties it, a seq that
// skips is counted, and a dropped stream reconnects and starts again
// from a full frame.
func TestSubscriberFollowsFrames(t *testing.T) {
	const stat = `{"type":"instant","series":[{"metric":{},"values":[[1,"%s"]]}]}`
	frame := func(event string, seq int, panels string) string {
		return "event: " + event + "\ndata: {\"seq\":" + strconv.Itoa(seq) + `,"now":1,"from":0,"to":1,"step":15,"panels":{` + panels + "}}\n\n"
	}
	val := func(v string) string { return `"12":{"targets":{"A":` + strings.Replace(stat, "%s", v, 1) + `}}` }
	streams := []string{
		"retry: 1000\n\n" + frame("full", 1, val("3")+`,"13":{"targets":{"A":{"type":"range","series":[],"edge":[]}}}`) +
			frame("delta", 2, `"13":{"targets":{"A":{"edge":[]}}}`) +
			frame("delta", 3, val("4")) +
			frame("delta", 5, `"12":{"targets":{"A":{"series":[]}}}`),
		"retry: 1000\n\n" + frame("full", 9, val("7")),
	}
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "text/event-stream", r.Header.Get("Accept"))
		w.Header().Set("Content-Type", "text/event-stream")
		if calls < len(streams) {
			_, _ = w.Write([]byte(streams[calls]))
		}
		calls++
		if calls > len(streams) {
			<-r.Context().Done()
		}
	}))
	defer srv.Close()

	s := NewSubscriber(srv.URL, "12", "A")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx, srv.Client()) }()
	require.Eventually(t, func() bool { return s.Value() == 7 }, 10*time.Second, 10*time.Millisecond)
	cancel()
	<-done

	var values []float64
	for _, c := range s.Changes() {
		values = append(values, c.Value)
	}
	require.Len(t, values, 4)
	assert.Equal(t, []float64{3, 4}, values[:2])
	assert.True(t, math.IsNaN(values[2]), "series [] means no value")
	assert.Equal(t, 7.0, values[3])
	assert.Equal(t, int64(5), s.Frames.Load())
	assert.Equal(t, int64(2), s.Fulls.Load())
	assert.Equal(t, int64(1), s.SeqGaps.Load(), "seq 3 to 5")
	assert.GreaterOrEqual(t, s.Connects.Load(), int64(2))
	assert.GreaterOrEqual(t, s.Drops.Load(), int64(1))
	select {
	case <-s.Live():
	default:
		t.Fatal("Live not closed after a full frame")
	}
}

func TestDecodeFrameErrors(t *testing.T) {
	_, err := DecodeFrame([]byte(`{"panels":{}}`))
	require.ErrorContains(t, err, "seq")
	f, err := DecodeFrame([]byte(`{"seq":1,"panels":{"1":{"targets":{"A":{"type":"instant","series":[{"metric":{},"values":[[1,"x"]]}]}}}}}`))
	require.NoError(t, err)
	_, _, err = f.Instant("1", "A")
	require.ErrorContains(t, err, "not a number")
	v, carried, err := f.Instant("2", "A")
	require.NoError(t, err)
	assert.False(t, carried)
	assert.True(t, math.IsNaN(v))
}
