package analyticsmetricsconnector

import (
	"slices"
	"strings"

	"github.com/cespare/xxhash/v2"

	"github.com/pulse-otel/pulse/internal/catalog"
)

// session is an open session's state.
type session struct {
	first, last int64 // event time, ns
	events      int
	platform    string
	open        *openSessions // the tally of its platform
	pages       [8]uint64     // hashes of viewed paths, for unique page views
	npages      int
	converted   bool // counted in pulse.sessions.converted
}

// openSessions tallies one platform's open sessions for the
// pulse.sessions.open gauges. Sessions add and remove themselves as they
// change, so a flush does not walk the session table.
type openSessions struct {
	sessions, single int64 // open sessions, those of a single event
	span             int64 // sum of last - first event time, ns
	dirty            bool  // changed since the last flush
}

// openTally returns the tally of platform. Platforms beyond
// max_values_per_label share the _other tally, as their series would.
func (c *analyticsConnector) openTally(platform string) *openSessions {
	if o, ok := c.open[platform]; ok {
		return o
	}
	if len(c.open) >= c.cfg.MaxValuesPerLabel {
		platform = otherValue
		if o, ok := c.open[platform]; ok {
			return o
		}
	}
	o := &openSessions{}
	c.open[strings.Clone(platform)] = o
	return o
}

// endSessions records and forgets sessions idle since before cutoff (all
// of them when everything is set).
func (c *analyticsConnector) endSessions(cutoff int64, everything bool) {
	for id, s := range c.sessions {
		if everything || s.last < cutoff {
			c.endSession(s)
			delete(c.sessions, id)
		}
	}
}

func (c *analyticsConnector) endSession(s *session) {
	o := s.open
	o.sessions--
	o.span -= s.last - s.first
	if s.events == 1 {
		o.single--
	}
	o.dirty = true
	ls := labelSet{s.platform}
	c.agg.observe(catalog.SessionDuration, ls, float64(s.last-s.first)/1e9)
	c.agg.observe(catalog.SessionEvents, ls, float64(s.events))
	if s.events == 1 {
		c.agg.add(catalog.Bounces, ls, 1)
	}
}

func (c *analyticsConnector) trackSession(e *event, t int64) {
	s, ok := c.sessions[e.sessionID]
	if !ok {
		if len(c.sessions) >= c.cfg.MaxSessions {
			c.evictOldestSessions()
		}
		s = &session{first: t, last: t, platform: e.platform, open: c.openTally(e.platform)}
		c.sessions[strings.Clone(e.sessionID)] = s
		c.agg.add(catalog.Sessions, labelSet{e.platform}, 1)
		s.open.sessions++
	}
	o := s.open
	o.span -= s.last - s.first
	if s.events == 1 {
		o.single--
	}
	s.events++
	s.first, s.last = min(s.first, t), max(s.last, t)
	o.span += s.last - s.first
	if s.events == 1 {
		o.single++
	}
	o.dirty = true
	if e.behavior == "conversion" && !s.converted {
		s.converted = true
		c.agg.add(catalog.SessionsConverted, labelSet{s.platform}, 1)
	}
	if e.behavior == "navigation" && e.path != "" {
		// A fixed hash, not the process's maphash seed: a session's page
		// hashes move with its partition to another process (corestate.go).
		h := xxhash.Sum64String(e.path)
		for _, seen := range s.pages[:s.npages] {
			if seen == h {
				return
			}
		}
		if s.npages < len(s.pages) {
			s.pages[s.npages] = h
			s.npages++
		}
		c.agg.add(catalog.UniquePageViews, labelSet{e.platform}, 1)
	}
}

// evictOldestSessions ends the 1 % of sessions idle longest.
func (c *analyticsConnector) evictOldestSessions() {
	n := max(1, len(c.sessions)/100)
	lasts := make([]int64, 0, len(c.sessions))
	for _, s := range c.sessions {
		lasts = append(lasts, s.last)
	}
	cutoff := nthSmallest(lasts, n)
	for id, s := range c.sessions {
		if s.last <= cutoff && n > 0 {
			c.endSession(s)
			delete(c.sessions, id)
			n--
		}
	}
}

func nthSmallest(xs []int64, n int) int64 {
	// Sorting is O(n log n) and happens once per 1 % of max_sessions new
	// sessions, so its cost per session is logarithmic.
	slices.Sort(xs)
	return xs[min(n, len(xs))-1]
}
