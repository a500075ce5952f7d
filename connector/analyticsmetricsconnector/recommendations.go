package analyticsmetricsconnector

import (
	"cmp"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/pulse-otel/pulse/internal/catalog"
	"github.com/pulse-otel/pulse/internal/schema"
)

// Presence bits of a recommendation record's optional numbers.
const (
	recHasConfidence = 1 << iota
	recHasResponseTime
	recHasRating
	recHasViewDuration
	recHasClickThrough
	recHasCompletion
)

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
			conf, has = num(v), has|recHasConfidence
		case schema.AttrResponseTime:
			respTime, has = num(v), has|recHasResponseTime
		case schema.AttrResponseRating:
			rating, has = num(v), has|recHasRating
		case schema.AttrViewDuration:
			view, has = num(v), has|recHasViewDuration
		case schema.AttrClickThroughRate:
			ctr, has = num(v), has|recHasClickThrough
		case schema.AttrCompletionRate:
			completion, has = num(v), has|recHasCompletion
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
			a.add(catalog.Duplicates, labelSet{dedupKindNames[kind]}, 1)
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
			a.add(catalog.Unjoined, labelSet{response}, 1)
		}
	}
	short := labelSet{modelID, recType}
	if full {
		a.add(catalog.Recommendations, labelSet{modelID, modelVersion, recType}, 1)
		if has&recHasConfidence != 0 {
			a.observe(catalog.Confidence, short, conf)
		}
	}
	if response != "" {
		a.add(catalog.Responses, labelSet{modelID, modelVersion, recType, response}, 1)
	}
	for _, h := range []struct {
		bit uint32
		m   int
		v   float64
	}{{recHasResponseTime, catalog.ResponseTime, respTime}, {recHasRating, catalog.Rating, rating}, {recHasViewDuration, catalog.ViewDuration, view}, {recHasClickThrough, catalog.ClickThrough, ctr}, {recHasCompletion, catalog.Completion, completion}} {
		if has&h.bit != 0 {
			a.observe(h.m, short, h.v)
		}
	}
	c.notePending(int64(lr.Timestamp()))
}
