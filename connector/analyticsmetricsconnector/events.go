package analyticsmetricsconnector

import (
	"hash/maphash"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/pulse-otel/pulse/internal/catalog"
	"github.com/pulse-otel/pulse/internal/schema"
)

// recentUsers is the size of the recent-user cache (a power of two).
const recentUsers = 4096

type recentUser struct {
	user string
	week int64
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
	a.add(catalog.Events, ls, 1)
	if e.has&hasDuration != 0 {
		a.observe(catalog.EventDuration, labelSet{e.eventType, e.category, e.platform}, e.duration)
	}
	if e.has&hasValue != 0 {
		a.observe(catalog.EventValue, labelSet{e.eventType, e.category}, e.value)
	}

	p := labelSet{e.platform}
	switch e.behavior {
	case "navigation":
		a.add(catalog.PageViews, p, 1)
		if e.has&hasTimeOnPage != 0 {
			a.observe(catalog.TimeOnPage, p, e.timeOnPage)
		}
		if e.has&hasScroll != 0 {
			a.observe(catalog.ScrollDepth, p, e.scrollDepth)
		}
	case "interaction":
		n := 1.0
		if e.has&hasInteractions != 0 {
			n = e.interactions
		}
		a.add(catalog.Interactions, labelSet{e.elementType, e.platform}, n)
	case "engagement":
		a.add(catalog.Engagements, labelSet{e.contentType, e.platform}, 1)
		if e.has&hasEngDur != 0 {
			a.observe(catalog.EngagementDuration, labelSet{e.contentType}, e.engagementDur)
		}
		if e.has&hasCompletion != 0 {
			a.observe(catalog.EngagementCompletion, labelSet{e.contentType}, e.completion)
		}
	case "conversion":
		a.add(catalog.Conversions, labelSet{e.goalType, e.funnelStep, e.platform}, 1)
		if e.has&hasConvTime != 0 {
			a.observe(catalog.ConversionTime, labelSet{e.goalType}, e.convTime)
		}
		if e.has&hasGoalValue != 0 {
			a.add(catalog.ConversionValue, labelSet{e.goalType}, e.goalValue)
			if e.goalValue > 0 {
				a.add(catalog.ConversionsValued, labelSet{e.goalType}, 1)
			}
		}
	case "abandonment":
		a.add(catalog.Abandonments, labelSet{e.category, e.platform}, 1)
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
				a.add(catalog.NewUsers, p, 1)
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
		a.observe(catalog.QualityScore, labelSet{e.eventType}, e.quality)
	}
	if obs := int64(lr.ObservedTimestamp()); obs > 0 && t > 0 {
		a.observe(catalog.Timeliness, p, float64(obs-t)/1e9)
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
	c.agg.observe(catalog.Freshness, labelSet{}, float64(time.Now().UnixNano()-t)/1e9)
}
