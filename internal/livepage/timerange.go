package livepage

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

const (
	// minStep is the smallest step of a range query: the connector exports
	// every 15 s, a finer step draws the same point several times.
	minStep = 15 * time.Second
	// pointsPerRange is how many aligned points a range query returns at
	// most (the step grows with the range).
	pointsPerRange = 300
	// maxRange bounds to-from, so that a range query stays pointsPerRange
	// points of at most ~32 hours each.
	maxRange = 400 * 24 * time.Hour
)

// timeSpec is one end of a time range: now less an offset, or a fixed time.
type timeSpec struct {
	relative bool
	offset   time.Duration // relative: how long before now
	at       int64         // fixed: unix milliseconds
}

// parseTimeSpec reads `now`, `now-<prometheus duration>` or unix
// milliseconds. Its errors are fixed phrases: the text is the client's.
func parseTimeSpec(s string) (timeSpec, error) {
	switch {
	case s == "now":
		return timeSpec{relative: true}, nil
	case strings.HasPrefix(s, "now-"):
		d, err := model.ParseDuration(s[len("now-"):])
		if err != nil || d <= 0 {
			return timeSpec{}, errors.New("must be now, now-<duration> (e.g. now-6h) or unix milliseconds")
		}
		if time.Duration(d) > 10*maxRange {
			return timeSpec{}, errors.New("is too far in the past")
		}
		return timeSpec{relative: true, offset: time.Duration(d)}, nil
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms < 0 || ms > 1<<50 {
		return timeSpec{}, errors.New("must be now, now-<duration> (e.g. now-6h) or unix milliseconds")
	}
	return timeSpec{at: ms}, nil
}

// String is the canonical form, part of a stream's key.
func (t timeSpec) String() string {
	if t.relative {
		if t.offset == 0 {
			return "now"
		}
		return "now-" + strconv.FormatInt(t.offset.Milliseconds(), 10) + "ms"
	}
	return strconv.FormatInt(t.at, 10)
}

func (t timeSpec) resolve(now time.Time) int64 {
	if t.relative {
		return now.Add(-t.offset).UnixMilli()
	}
	return t.at
}

// timeRange is a stream's range, resolved again at every evaluation.
type timeRange struct {
	from, to timeSpec
	step     time.Duration
}

// newTimeRange checks from < to and the range's length at now, and picks
// the step: max(15s, (to-from)/300 rounded up to a whole second). A range
// of two relative ends has the same length at any time, so its step is
// fixed; a fixed end makes the length change, and the step is the one of
// the length when the stream was opened.
func newTimeRange(from, to timeSpec, now time.Time) (timeRange, error) {
	f, t := from.resolve(now), to.resolve(now)
	if f >= t {
		return timeRange{}, errors.New("from: must be before to")
	}
	span := time.Duration(t-f) * time.Millisecond
	if span > maxRange {
		return timeRange{}, errors.New("from: the range must be at most 400 days")
	}
	return timeRange{from: from, to: to, step: stepFor(span)}, nil
}

// stepFor is max(minStep, span/pointsPerRange) rounded up to a second.
func stepFor(span time.Duration) time.Duration {
	step := (span + pointsPerRange - 1) / pointsPerRange
	step = (step + time.Second - 1) / time.Second * time.Second
	return max(minStep, step)
}

// window is the range at now: from and to in milliseconds, and the
// aligned start and end of the range query.
type window struct {
	from, to   int64
	start, end int64
	step       time.Duration
}

func (r timeRange) at(now time.Time) window {
	f, t := r.from.resolve(now), r.to.resolve(now)
	s := r.step.Milliseconds()
	start := floorDiv(f, s) * s
	end := floorDiv(t, s) * s
	if end < start {
		end = start
	}
	return window{from: f, to: t, start: start, end: end, step: r.step}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
