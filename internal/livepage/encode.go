package livepage

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
)

// targetState is what a frame says of one target, each field encoded
// once: series and edge are JSON arrays, compared byte for byte to find
// what changed since the last frame.
type targetState struct {
	instant   bool
	series    []byte
	edge      []byte // range targets only
	err       string
	truncated bool

	// A range target's two queries run in different phases, so each keeps
	// its own error and cut; err and truncated combine them.
	rangeErr, edgeErr  string
	seriesCut, edgeCut bool
}

// changes says which fields of a target differ from the last frame.
type changes struct {
	series, edge, err, truncated bool
}

func (c changes) any() bool { return c.series || c.edge || c.err || c.truncated }

func diff(old, cur *targetState) changes {
	if old == nil {
		return changes{series: true, edge: !cur.instant, err: true, truncated: true}
	}
	return changes{
		series:    !bytes.Equal(old.series, cur.series),
		edge:      !cur.instant && !bytes.Equal(old.edge, cur.edge),
		err:       old.err != cur.err,
		truncated: old.truncated != cur.truncated,
	}
}

// frameHeader is the part of a frame before the panels.
type frameHeader struct {
	seq  uint64
	now  int64
	win  window
	full bool
}

// encodeFrame writes one SSE event: `event: full|delta`, one data line.
// For a full frame every target of state is written with every field; for
// a delta only the targets in changed, with only their changed fields.
func encodeFrame(h frameHeader, panels []Panel, state map[string]map[string]*targetState, changed map[string]map[string]changes) []byte {
	b := make([]byte, 0, 4096)
	if h.full {
		b = append(b, "event: full\ndata: "...)
	} else {
		b = append(b, "event: delta\ndata: "...)
	}
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, h.seq, 10)
	b = append(b, `,"now":`...)
	b = strconv.AppendInt(b, h.now, 10)
	b = append(b, `,"from":`...)
	b = strconv.AppendInt(b, h.win.from, 10)
	b = append(b, `,"to":`...)
	b = strconv.AppendInt(b, h.win.to, 10)
	b = append(b, `,"step":`...)
	b = strconv.AppendInt(b, int64(h.win.step.Seconds()), 10)
	b = append(b, `,"panels":{`...)
	firstPanel := true
	for _, p := range panels {
		ps := state[p.ID]
		pc := changed[p.ID]
		if !h.full && len(pc) == 0 {
			continue
		}
		if !firstPanel {
			b = append(b, ',')
		}
		firstPanel = false
		b = appendString(b, p.ID)
		b = append(b, `:{"targets":{`...)
		firstTarget := true
		for _, t := range p.Targets {
			ts := ps[t.RefID]
			if ts == nil {
				continue
			}
			c := changes{series: true, edge: !ts.instant, err: ts.err != "", truncated: ts.truncated}
			if !h.full {
				var ok bool
				if c, ok = pc[t.RefID]; !ok {
					continue
				}
			}
			if !firstTarget {
				b = append(b, ',')
			}
			firstTarget = false
			b = appendString(b, t.RefID)
			b = append(b, ':')
			b = appendTarget(b, ts, c, h.full)
		}
		b = append(b, "}}"...)
	}
	b = append(b, "}}\n\n"...)
	return b
}

func appendTarget(b []byte, ts *targetState, c changes, full bool) []byte {
	b = append(b, '{')
	sep := false
	field := func(name string) {
		if sep {
			b = append(b, ',')
		}
		sep = true
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":`...)
	}
	if full {
		field("type")
		if ts.instant {
			b = append(b, `"instant"`...)
		} else {
			b = append(b, `"range"`...)
		}
	}
	if c.series {
		field("series")
		b = append(b, ts.series...)
	}
	if c.edge {
		field("edge")
		b = append(b, ts.edge...)
	}
	if c.err {
		field("error")
		b = appendString(b, ts.err)
	}
	if c.truncated {
		field("truncated")
		b = strconv.AppendBool(b, ts.truncated)
	}
	return append(b, '}')
}

// encodeMatrix encodes range series as the Prometheus API does, at most
// limit series; it reports whether some were left out.
func encodeMatrix(m promql.Matrix, limit int) ([]byte, bool) {
	b := []byte{'['}
	n := 0
	for _, s := range m {
		if len(s.Floats) == 0 {
			continue // histograms are not drawn
		}
		if n == limit {
			return append(b, ']'), true
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, `{"metric":`...)
		b = appendLabels(b, s.Metric)
		b = append(b, `,"values":[`...)
		for i, p := range s.Floats {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendPoint(b, p.T, p.F)
		}
		b = append(b, "]}"...)
	}
	return append(b, ']'), false
}

// encodeVector encodes instant samples, sorted by labels, as
// `[{"metric":...,"<key>":[t,"v"]}]` with key "value" (edge) or as a
// one-point "values" list (instant panels).
func encodeVector(v promql.Vector, limit int, asValues bool) ([]byte, bool) {
	slices.SortFunc(v, func(x, y promql.Sample) int { return labels.Compare(x.Metric, y.Metric) })
	b := []byte{'['}
	n := 0
	for _, s := range v {
		if s.H != nil {
			continue
		}
		if n == limit {
			return append(b, ']'), true
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, `{"metric":`...)
		b = appendLabels(b, s.Metric)
		if asValues {
			b = append(b, `,"values":[`...)
			b = appendPoint(b, s.T, s.F)
			b = append(b, "]}"...)
		} else {
			b = append(b, `,"value":`...)
			b = appendPoint(b, s.T, s.F)
			b = append(b, '}')
		}
	}
	return append(b, ']'), false
}

func appendLabels(b []byte, ls labels.Labels) []byte {
	b = append(b, '{')
	first := true
	ls.Range(func(l labels.Label) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, l.Name)
		b = append(b, ':')
		b = appendString(b, l.Value)
	})
	return append(b, '}')
}

// appendPoint writes [ms,"value"], the number formatted as the Prometheus
// API does ("NaN", "+Inf", "-Inf" included).
func appendPoint(b []byte, t int64, v float64) []byte {
	b = append(b, '[')
	b = strconv.AppendInt(b, t, 10)
	b = append(b, `,"`...)
	switch {
	case math.IsNaN(v):
		b = append(b, "NaN"...)
	case math.IsInf(v, 1):
		b = append(b, "+Inf"...)
	case math.IsInf(v, -1):
		b = append(b, "-Inf"...)
	default:
		b = strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	return append(b, `"]`...)
}

// appendString writes s as a JSON string.
func appendString(b []byte, s string) []byte {
	enc, _ := json.Marshal(s) // a string always marshals
	return append(b, enc...)
}
