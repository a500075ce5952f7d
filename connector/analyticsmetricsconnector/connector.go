package analyticsmetricsconnector

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bits-and-blooms/bloom/v3"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"

	"github.com/pulse-otel/pulse/connector/analyticsmetricsconnector/internal/metadata"
	"github.com/pulse-otel/pulse/internal/hll"
	"github.com/pulse-otel/pulse/internal/schema"
)

// recentUsers is the size of the recent-user cache (a power of two).
const recentUsers = 4096

type recentUser struct {
	user string
	week int64
}

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

type analyticsConnector struct {
	cfg  *Config
	set  connector.Settings
	next consumer.Metrics

	mu       sync.Mutex
	agg      *aggregator
	users    *hll.Ring
	seen     *bloom.BloomFilter
	cohorts  *cohorts
	recent   []recentUser // direct-mapped cache of users seen this week
	sessions map[string]*session
	open     map[string]*openSessions // by platform
	// usersSeen is the new-user filter's user count: its estimate at
	// start, plus the new users since.
	usersSeen      uint64
	usersSeenDirty bool
	pending        []int64 // event times (ns) since the last flush, for freshness
	// fields counts optional fields absent [0] and present [1]; kept as
	// plain counters (not series lookups) because every event touches all.
	fields      [numOptionalFields][2]uint64
	fieldsDirty bool
	eventDim    [maxLabels]string
	dedup       *dedup     // ids already counted
	join        *joinTable // recommendation id → model labels

	seed       maphash.Seed
	client     storage.Client
	stop       chan struct{}
	done       chan struct{}
	cancelLoop context.CancelFunc // ends the loop's export in progress
	lastFull   time.Time
	lastSave   time.Time
	startOnce  sync.Once
	shutOnce   sync.Once
	windowList []hll.Window

	// Export acknowledgement (wait_for_export), guarded by mu: epoch counts
	// flush snapshots; committed is the latest epoch whose export the
	// metrics pipeline accepted (cumulative values, so it covers every
	// earlier epoch); flushed is closed and replaced whenever committed
	// moves or the loop stops.
	epoch, committed uint64
	flushed          chan struct{}
	closed           bool
	// exportFailed makes the next flush export every series: the failed
	// one had marked its series as exported.
	exportFailed bool
	// exportErr is the last flush's export error, nil once one succeeds.
	// While it is set, wait_for_export refuses new requests instead of
	// holding them.
	exportErr error
}

func newConnector(set connector.Settings, cfg *Config, next consumer.Metrics) (*analyticsConnector, error) {
	windows := hll.DefaultWindows()
	users, err := hll.NewRing(windows)
	if err != nil {
		return nil, err
	}
	c := &analyticsConnector{
		cfg:        cfg,
		set:        set,
		next:       next,
		agg:        newAggregator(cfg.EventDimensions, cfg.MaxValuesPerLabel, cfg.MaxSeries),
		users:      users,
		seen:       bloom.NewWithEstimates(cfg.ExpectedUsers, 0.001),
		cohorts:    newCohorts(cfg.ExpectedUsers),
		recent:     make([]recentUser, recentUsers),
		sessions:   map[string]*session{},
		open:       map[string]*openSessions{},
		seed:       maphash.MakeSeed(),
		windowList: windows,
		flushed:    make(chan struct{}),
		dedup:      newDedup(cfg.Dedup.Window, cfg.Dedup.MaxIDs),
		join:       newJoinTable(cfg.RecommendationJoin.MaxEntries, uint32(cfg.RecommendationJoin.MaxAge/time.Second)),
	}
	for i, d := range cfg.EventDimensions {
		c.eventDim[i] = eventDimensions[d]
	}
	return c, nil
}

func (c *analyticsConnector) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// Start loads saved state and starts the flush loop.
func (c *analyticsConnector) Start(ctx context.Context, host component.Host) error {
	if c.cfg.Storage != nil {
		ext, ok := host.GetExtensions()[*c.cfg.Storage]
		if !ok {
			return fmt.Errorf("storage: extension %q is not configured in service.extensions", c.cfg.Storage)
		}
		se, ok := ext.(storage.Extension)
		if !ok {
			return fmt.Errorf("storage: extension %q is not a storage extension", c.cfg.Storage)
		}
		client, err := se.GetClient(ctx, component.KindConnector, c.set.ID, "")
		if err != nil {
			return fmt.Errorf("storage: %w", err)
		}
		c.client = client
		if err := c.load(ctx); err != nil {
			return err
		}
	}
	c.mu.Lock()
	c.usersSeen, c.usersSeenDirty = uint64(c.seen.ApproximatedSize()), true
	c.mu.Unlock()
	c.stop, c.done = make(chan struct{}), make(chan struct{})
	c.lastFull, c.lastSave = time.Now(), time.Now()
	var loopCtx context.Context
	loopCtx, c.cancelLoop = context.WithCancel(context.Background())
	go c.loop(loopCtx)
	return nil
}

// shutdownFlushTimeout bounds Shutdown's final export when the Shutdown
// context has no earlier deadline: the next consumer (promstore, remote
// write) may retry for minutes against a store that is down.
var shutdownFlushTimeout = 10 * time.Second

// Shutdown stops the flush loop, saves state, exports what is pending and
// stops. Waiting for the loop's export in progress and the final export
// together take at most until ctx ends or shutdownFlushTimeout, whichever
// is first: a next consumer retrying against a store that is down cannot
// hold the collector's shutdown. The state is saved before the final
// export, so a final export cut short loses only the counts since the last
// accepted export (logged), never the users seen or ids counted.
func (c *analyticsConnector) Shutdown(ctx context.Context) error {
	var err error
	c.shutOnce.Do(func() {
		if c.stop == nil {
			return
		}
		fctx, cancel := context.WithTimeout(ctx, shutdownFlushTimeout)
		defer cancel()
		stopLoop := context.AfterFunc(fctx, c.cancelLoop)
		defer stopLoop()
		close(c.stop)
		<-c.done
		c.cancelLoop()
		if c.client != nil {
			// Local storage, not the store behind the next consumer:
			// saved even when ctx has ended.
			err = c.save(context.WithoutCancel(ctx))
		}
		c.flush(fctx, time.Now(), true)
		c.mu.Lock()
		failed, exportErr, series := c.exportFailed, c.exportErr, c.agg.total
		c.closed = true
		close(c.flushed)
		c.mu.Unlock()
		if failed {
			c.set.Logger.Error("Final export at shutdown failed: the counts since the last accepted export were not exported (counters start again from 0 in the next process)",
				zap.Int("series", series), zap.Duration("limit", shutdownFlushTimeout), zap.Error(exportErr))
		}
		if c.client != nil {
			err = errors.Join(err, c.client.Close(context.WithoutCancel(ctx)))
		}
	})
	return err
}

// loop flushes and saves until Shutdown; ctx ends when Shutdown's bound is
// reached, which cuts an export in progress short.
func (c *analyticsConnector) loop(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(c.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case now := <-t.C:
			full := now.Sub(c.lastFull) >= c.cfg.FullExportInterval
			if full {
				c.lastFull = now
			}
			c.flush(ctx, now, full)
			if c.client != nil && now.Sub(c.lastSave) >= c.cfg.SaveInterval {
				c.lastSave = now
				if err := c.save(context.WithoutCancel(ctx)); err != nil {
					c.set.Logger.Warn("Saving connector state failed; new-user and active-user state since the last save would be lost on restart", zap.Error(err))
				}
			}
		}
	}
}

// flush ends idle sessions, computes the gauges and exports.
func (c *analyticsConnector) flush(ctx context.Context, now time.Time, full bool) {
	md := pmetric.NewMetrics()
	c.mu.Lock()
	ts := pcommon.NewTimestampFromTime(now)
	// What the flush itself counts (ended sessions, freshness) happened
	// since the previous export: a series it creates was 0 then.
	c.agg.now = min(c.agg.exportedAt, ts)
	c.endSessions(now.UnixNano()-int64(c.cfg.SessionTimeout), false)
	for platform, o := range c.open {
		if o.dirty {
			ls := labelSet{platform}
			c.agg.set(mSessionsOpen, ls, float64(o.sessions))
			c.agg.set(mSessionsOpenDuration, ls, float64(o.span)/1e9)
			c.agg.set(mSessionsOpenBounced, ls, float64(o.single))
			o.dirty = false
		}
	}
	if c.usersSeenDirty {
		c.agg.set(mUsersSeen, labelSet{}, float64(c.usersSeen))
		c.usersSeenDirty = false
	}
	for _, w := range c.windowList {
		if n, err := c.users.Estimate(w.Name, now); err == nil {
			c.agg.set(mActiveUsers, labelSet{w.Name}, float64(n))
		}
	}
	c.cohorts.export(c.agg, now)
	if c.fieldsDirty {
		for i, f := range optionalFields {
			c.agg.set(mFields, labelSet{f.name, "false"}, float64(c.fields[i][0]))
			c.agg.set(mFields, labelSet{f.name, "true"}, float64(c.fields[i][1]))
		}
		c.fieldsDirty = false
	}
	for _, t := range c.pending {
		c.agg.observe(mFreshness, labelSet{}, float64(now.UnixNano()-t)/1e9)
	}
	c.pending = c.pending[:0]
	rm := md.ResourceMetrics().AppendEmpty()
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(metadata.ScopeName)
	full = full || c.exportFailed
	c.exportFailed = false
	n := c.agg.export(sm, ts, full)
	c.epoch++
	epoch := c.epoch
	c.mu.Unlock()
	if n > 0 {
		if err := c.next.ConsumeMetrics(ctx, md); err != nil {
			// Cumulative state is kept, so the next (full) export carries
			// the counts.
			c.set.Logger.Warn("Exporting analytics metrics failed; the next flush exports every series again", zap.Error(err))
			c.mu.Lock()
			c.exportFailed, c.exportErr = true, err
			c.mu.Unlock()
			return
		}
	}
	c.mu.Lock()
	c.exportErr = nil
	if epoch > c.committed && !c.closed {
		c.committed = epoch
		close(c.flushed)
		c.flushed = make(chan struct{})
	}
	c.mu.Unlock()
}

// waitForExport blocks until a flush that started after the caller's
// events were aggregated has been exported (epoch is c.epoch then), the
// connector shut down, or ctx ended.
func (c *analyticsConnector) waitForExport(ctx context.Context, epoch uint64) error {
	for {
		c.mu.Lock()
		done, closed, ch := c.committed > epoch, c.closed, c.flushed
		c.mu.Unlock()
		switch {
		case done:
			return nil
		case closed:
			return errors.New("analytics_metrics: shut down before the events were exported")
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("analytics_metrics: events aggregated but not yet exported: %w", context.Cause(ctx))
		}
	}
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
	c.agg.observe(mSessionDuration, ls, float64(s.last-s.first)/1e9)
	c.agg.observe(mSessionEvents, ls, float64(s.events))
	if s.events == 1 {
		c.agg.add(mBounces, ls, 1)
	}
}

// ConsumeLogs aggregates the analytics records of ld. Other records are
// ignored.
func (c *analyticsConnector) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	c.mu.Lock()
	if c.cfg.WaitForExport && c.exportErr != nil {
		// Holding the request would not make the export succeed sooner:
		// refuse it (retryable) before counting anything, so the client's
		// retry cannot count it twice.
		err := c.exportErr
		c.mu.Unlock()
		return fmt.Errorf("analytics_metrics: the metrics pipeline is refusing exports, nothing of this request was counted: %w", err)
	}
	n := c.consume(ld)
	epoch, wait := c.epoch, n > 0 && c.cfg.WaitForExport && c.stop != nil && !c.closed
	c.mu.Unlock()
	if !wait {
		return nil
	}
	return c.waitForExport(ctx, epoch)
}

// consume aggregates ld and returns how many records it used; c.mu is held.
func (c *analyticsConnector) consume(ld plog.Logs) int {
	n := 0
	now := time.Now()
	c.agg.now = pcommon.NewTimestampFromTime(now)
	nowNS := now.UnixNano()
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		var res resourceFields
		rl.Resource().Attributes().Range(res.visit)
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				switch lr.EventName() {
				case schema.EventAnalytics:
					// The id as the privacy processor left it: a retry
					// carries the same one, unless it was masked as PII.
					if id, ok := lr.Attributes().Get(schema.AttrEventID); ok && id.Type() == pcommon.ValueTypeStr && usableID(id.Str()) &&
						c.dedup.seen(kindEvent, id.Str(), nowNS) {
						c.agg.add(mDuplicates, labelSet{dedupKindNames[kindEvent]}, 1)
					} else {
						c.event(lr, &res)
					}
					n++
				case schema.EventRecommendation, schema.EventRecommendationResponse:
					c.recommendation(lr, now)
					n++
				}
			}
		}
	}
	return n
}

type resourceFields struct{ platform, appVersion string }

func (r *resourceFields) visit(k string, v pcommon.Value) bool {
	switch k {
	case schema.ResourcePlatform:
		r.platform = v.Str()
	case schema.ResourceAppVersion:
		r.appVersion = v.Str()
	}
	return true
}

// event is what the connector reads from one analytics record, in one pass.
type event struct {
	eventType, category, action, feature, page, consent string
	platform, appVersion                                string
	userID, sessionID                                   string
	behavior, path, elementType, contentType            string
	goalType, funnelStep                                string
	value, duration, timeOnPage, scrollDepth            float64
	engagementDur, completion, convTime, goalValue      float64
	interactions                                        float64
	quality                                             float64
	has                                                 uint32
}

// Presence bits of optional fields.
const (
	hasValue = 1 << iota
	hasDuration
	hasTimeOnPage
	hasScroll
	hasEngDur
	hasCompletion
	hasConvTime
	hasGoalValue
	hasInteractions
	hasQuality
	hasUser
	hasUserAgent
	hasPage
	hasFeature
	hasBehavior
)

const numOptionalFields = 7

// optionalFields are counted by pulse.quality.fields.
var optionalFields = [numOptionalFields]struct {
	name string
	bit  uint32
}{
	{"user_id", hasUser}, {"user_agent", hasUserAgent}, {"page", hasPage}, {"feature", hasFeature},
	{"value", hasValue}, {"duration", hasDuration}, {"behavior", hasBehavior},
}

func num(v pcommon.Value) float64 {
	switch v.Type() {
	case pcommon.ValueTypeDouble:
		return v.Double()
	case pcommon.ValueTypeInt:
		return float64(v.Int())
	}
	return 0
}

func (e *event) visit(k string, v pcommon.Value) bool {
	switch k {
	case schema.AttrEventType:
		e.eventType = v.Str()
	case schema.AttrCategory:
		e.category = v.Str()
	case schema.AttrAction:
		e.action = v.Str()
	case schema.AttrFeature:
		e.feature = v.Str()
		e.has |= hasFeature
	case schema.AttrPage:
		e.page = v.Str()
		e.has |= hasPage
	case schema.AttrConsentLevel:
		e.consent = v.Str()
	case schema.AttrUserID:
		e.userID = v.Str()
		e.has |= hasUser
	case schema.AttrSessionID:
		e.sessionID = v.Str()
	case schema.AttrUserAgent:
		e.has |= hasUserAgent
	case schema.AttrValue:
		e.value, e.has = num(v), e.has|hasValue
	case schema.AttrDuration:
		e.duration, e.has = num(v), e.has|hasDuration
	case schema.AttrBehaviorType:
		e.behavior = v.Str()
		e.has |= hasBehavior
	case schema.AttrPagePath:
		e.path = v.Str()
	case schema.AttrPageTimeOnPage:
		e.timeOnPage, e.has = num(v), e.has|hasTimeOnPage
	case schema.AttrPageScrollDep:
		e.scrollDepth, e.has = num(v), e.has|hasScroll
	case schema.AttrInteractionElementType:
		e.elementType = v.Str()
	case schema.AttrInteractionCount:
		e.interactions, e.has = num(v), e.has|hasInteractions
	case schema.AttrEngagementContentType:
		e.contentType = v.Str()
	case schema.AttrEngagementDuration:
		e.engagementDur, e.has = num(v), e.has|hasEngDur
	case schema.AttrEngagementCompletion:
		e.completion, e.has = num(v), e.has|hasCompletion
	case schema.AttrConversionGoalType:
		e.goalType = v.Str()
	case schema.AttrConversionFunnelStep:
		e.funnelStep = v.Str()
	case schema.AttrConversionTime:
		e.convTime, e.has = num(v), e.has|hasConvTime
	case schema.AttrConversionGoalValue:
		e.goalValue, e.has = num(v), e.has|hasGoalValue
	case schema.AttrQualityScore:
		e.quality, e.has = num(v), e.has|hasQuality
	}
	return true
}

func (e *event) dim(attr string) string {
	switch attr {
	case schema.AttrEventType:
		return e.eventType
	case schema.AttrCategory:
		return e.category
	case schema.AttrAction:
		return e.action
	case schema.ResourcePlatform:
		return e.platform
	case schema.ResourceAppVersion:
		return e.appVersion
	case schema.AttrFeature:
		return e.feature
	case schema.AttrPage:
		return e.page
	case schema.AttrConsentLevel:
		return e.consent
	}
	return ""
}

func (c *analyticsConnector) event(lr plog.LogRecord, res *resourceFields) {
	var e event
	e.platform, e.appVersion = res.platform, res.appVersion
	lr.Attributes().Range(e.visit)
	a := c.agg
	t := int64(lr.Timestamp())

	var ls labelSet
	for i, attr := range c.eventDim[:len(c.cfg.EventDimensions)] {
		ls[i] = e.dim(attr)
	}
	a.add(mEvents, ls, 1)
	if e.has&hasDuration != 0 {
		a.observe(mEventDuration, labelSet{e.eventType, e.category, e.platform}, e.duration)
	}
	if e.has&hasValue != 0 {
		a.observe(mEventValue, labelSet{e.eventType, e.category}, e.value)
	}

	p := labelSet{e.platform}
	switch e.behavior {
	case "navigation":
		a.add(mPageViews, p, 1)
		if e.has&hasTimeOnPage != 0 {
			a.observe(mTimeOnPage, p, e.timeOnPage)
		}
		if e.has&hasScroll != 0 {
			a.observe(mScrollDepth, p, e.scrollDepth)
		}
	case "interaction":
		n := 1.0
		if e.has&hasInteractions != 0 {
			n = e.interactions
		}
		a.add(mInteractions, labelSet{e.elementType, e.platform}, n)
	case "engagement":
		a.add(mEngagements, labelSet{e.contentType, e.platform}, 1)
		if e.has&hasEngDur != 0 {
			a.observe(mEngagementDuration, labelSet{e.contentType}, e.engagementDur)
		}
		if e.has&hasCompletion != 0 {
			a.observe(mEngagementCompletion, labelSet{e.contentType}, e.completion)
		}
	case "conversion":
		a.add(mConversions, labelSet{e.goalType, e.funnelStep, e.platform}, 1)
		if e.has&hasConvTime != 0 {
			a.observe(mConversionTime, labelSet{e.goalType}, e.convTime)
		}
		if e.has&hasGoalValue != 0 {
			a.add(mConversionValue, labelSet{e.goalType}, e.goalValue)
			if e.goalValue > 0 {
				a.add(mConversionsValued, labelSet{e.goalType}, 1)
			}
		}
	case "abandonment":
		a.add(mAbandonments, labelSet{e.category, e.platform}, 1)
	}

	if e.userID != "" {
		at := time.Unix(0, t)
		c.users.Add(e.userID, at)
		// A user seen this week is neither new nor unseen by the cohorts:
		// the recent-user cache saves the filter probes, which cost more
		// than the rest of an event's aggregation.
		w := weekOf(at)
		slot := &c.recent[maphash.String(c.seed, e.userID)&(recentUsers-1)]
		if slot.user != e.userID || slot.week != w {
			isNew := !c.seen.TestAndAddString(e.userID)
			if isNew {
				a.add(mNewUsers, p, 1)
				c.usersSeen++
				c.usersSeenDirty = true
			}
			c.cohorts.observe(e.userID, at, isNew)
			*slot = recentUser{user: strings.Clone(e.userID), week: w}
		}
	}
	if e.sessionID != "" {
		c.trackSession(&e, t)
	}

	for i, f := range optionalFields {
		if e.has&f.bit != 0 {
			c.fields[i][1]++
		} else {
			c.fields[i][0]++
		}
	}
	c.fieldsDirty = true
	if e.has&hasQuality != 0 {
		a.observe(mQualityScore, labelSet{e.eventType}, e.quality)
	}
	if obs := int64(lr.ObservedTimestamp()); obs > 0 && t > 0 {
		a.observe(mTimeliness, p, float64(obs-t)/1e9)
	}
	c.notePending(t)
}

// notePending remembers an event time for the freshness histogram of the
// next flush; beyond a bound it records the lag now instead.
func (c *analyticsConnector) notePending(t int64) {
	if t <= 0 {
		return
	}
	if len(c.pending) < 1<<20 {
		c.pending = append(c.pending, t)
		return
	}
	c.agg.observe(mFreshness, labelSet{}, float64(time.Now().UnixNano()-t)/1e9)
}

func (c *analyticsConnector) trackSession(e *event, t int64) {
	s, ok := c.sessions[e.sessionID]
	if !ok {
		if len(c.sessions) >= c.cfg.MaxSessions {
			c.evictOldestSessions()
		}
		s = &session{first: t, last: t, platform: e.platform, open: c.openTally(e.platform)}
		c.sessions[strings.Clone(e.sessionID)] = s
		c.agg.add(mSessions, labelSet{e.platform}, 1)
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
		c.agg.add(mSessionsConverted, labelSet{s.platform}, 1)
	}
	if e.behavior == "navigation" && e.path != "" {
		h := maphash.String(c.seed, e.path)
		for _, seen := range s.pages[:s.npages] {
			if seen == h {
				return
			}
		}
		if s.npages < len(s.pages) {
			s.pages[s.npages] = h
			s.npages++
		}
		c.agg.add(mUniquePageViews, labelSet{e.platform}, 1)
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

// recommendation counts a full recommendation (pulse.recommendation) or a
// later response; a response takes the model labels it lacks from its
// recommendation, joined by id. Duplicates by id are not counted.
func (c *analyticsConnector) recommendation(lr plog.LogRecord, now time.Time) {
	var recID, modelID, modelVersion, recType, response string
	var conf, respTime, rating, view, ctr, completion float64
	var has uint32
	lr.Attributes().Range(func(k string, v pcommon.Value) bool {
		switch k {
		case schema.AttrRecommendationID:
			recID = v.Str()
		case schema.AttrModelID:
			modelID = v.Str()
		case schema.AttrModelVersion:
			modelVersion = v.Str()
		case schema.AttrRecommendationType:
			recType = v.Str()
		case schema.AttrResponseAction:
			response = v.Str()
		case schema.AttrConfidence:
			conf, has = num(v), has|1
		case schema.AttrResponseTime:
			respTime, has = num(v), has|2
		case schema.AttrResponseRating:
			rating, has = num(v), has|4
		case schema.AttrViewDuration:
			view, has = num(v), has|8
		case schema.AttrClickThroughRate:
			ctr, has = num(v), has|16
		case schema.AttrCompletionRate:
			completion, has = num(v), has|32
		}
		return true
	})
	a := c.agg
	full := lr.EventName() == schema.EventRecommendation
	kind := kindResponse
	if full {
		kind = kindRecommendation
	}
	if !usableID(recID) {
		recID = "" // masked as PII: it identifies nothing
	}
	var h uint64
	if recID != "" {
		h = idHash(kindRecommendation, recID) // the join's key; the dedup key is derived
		if c.dedup.seenHash(rekind(h, kindRecommendation, kind), now.UnixNano()) {
			a.add(mDuplicates, labelSet{dedupKindNames[kind]}, 1)
			return
		}
	}
	secs := uint32(max(now.Unix(), 0))
	switch {
	case full && recID != "":
		c.join.remember(h, recLabels{modelID, modelVersion, recType}, secs)
	case !full && (modelID == "" || modelVersion == "" || recType == ""):
		// Labels the response carries itself win.
		if ls, ok := c.join.lookup(h, secs); ok && recID != "" {
			modelID, modelVersion, recType = cmp.Or(modelID, ls[0]), cmp.Or(modelVersion, ls[1]), cmp.Or(recType, ls[2])
		} else {
			a.add(mUnjoined, labelSet{response}, 1)
		}
	}
	short := labelSet{modelID, recType}
	if full {
		a.add(mRecommendations, labelSet{modelID, modelVersion, recType}, 1)
		if has&1 != 0 {
			a.observe(mConfidence, short, conf)
		}
	}
	if response != "" {
		a.add(mResponses, labelSet{modelID, modelVersion, recType, response}, 1)
	}
	for _, h := range []struct {
		bit uint32
		m   int
		v   float64
	}{{2, mResponseTime, respTime}, {4, mRating, rating}, {8, mViewDuration, view}, {16, mClickThrough, ctr}, {32, mCompletion, completion}} {
		if has&h.bit != 0 {
			a.observe(h.m, short, h.v)
		}
	}
	c.notePending(int64(lr.Timestamp()))
}

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
	seen, err := unmarshalFilter(parts[0])
	if err != nil {
		return fmt.Errorf("storage: saved user filter: %w", err)
	}
	if err := c.users.UnmarshalBinary(parts[1]); err != nil {
		return fmt.Errorf("storage: saved active-user sketches: %w", err)
	}
	if err := c.cohorts.UnmarshalBinary(parts[2]); err != nil {
		return fmt.Errorf("storage: saved cohorts: %w", err)
	}
	if nparts == 5 {
		if err := c.dedup.UnmarshalBinary(parts[3]); err != nil {
			return fmt.Errorf("storage: saved dedup ids: %w", err)
		}
		if err := c.join.UnmarshalBinary(parts[4]); err != nil {
			return fmt.Errorf("storage: saved recommendation join table: %w", err)
		}
	}
	c.seen = seen
	return nil
}
