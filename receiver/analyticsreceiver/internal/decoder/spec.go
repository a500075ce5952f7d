package decoder // import "github.com/pulse-otel/pulse/receiver/analyticsreceiver/internal/decoder"

import (
	"math"
	"slices"

	"github.com/pulse-otel/pulse/internal/catalog"
	"github.com/pulse-otel/pulse/internal/schema"
)

// kind is the JSON type a field accepts, with the check that goes with it.
type kind uint8

const (
	kindString  kind = iota + 1 // a UTF-8 string
	kindEnum                    // one string of a fixed list
	kindNumber                  // a finite number within [min, max]
	kindCount                   // a non-negative integer
	kindBool                    // true or false
	kindTime                    // epoch milliseconds
	kindStrings                 // an array of strings
	kindAny                     // any JSON value, depth and size limited
	kindObject                  // a nested object with its own fields
	kindObjects                 // an array of nested objects
	kindServer                  // server-owned: ignored when a client sends it
)

// role says where a valid field's value goes.
type role uint8

const (
	roleNone      role = iota // validated only (or handled by a hook)
	roleAttr                  // log record attribute (event kinds)
	roleResource              // resource attribute
	roleDim                   // data point attribute on every metric of the snapshot
	roleMetric                // a gauge data point of its own
	roleTimestamp             // the record's or snapshot's time
	roleStart                 // the snapshot's start time
)

// gauge is the snapshot metric a field feeds: its definition in
// internal/catalog and how this field's points are labelled.
type gauge struct {
	def *catalog.Metric
	// attrs are fixed data point attributes that split one field of the
	// seed into series of one metric, such as stat="p95".
	attrs [][2]string
	// dims lists the data point attribute keys every point carries; filled
	// in when the spec is compiled.
	dims []string
}

// field is one JSON field of an endpoint's object schema.
type field struct {
	name     string
	kind     kind
	role     role
	required bool
	nonEmpty bool
	maxLen   int  // kindString: a bound below max_string_length (0: none)
	array    bool // kindAny: the value must be an array
	min, max float64
	enum     []string
	levels   []float64 // numeric value of each enum member, for enum metrics
	obj      *object
	key      string // attribute key for roleAttr, roleResource and roleDim
	metric   *gauge

	// Set by compile.
	path   string
	slot   int
	parent *object
}

// object is the schema of a JSON object.
type object struct {
	fields []field
	byName map[string]int
	path   string
	// id numbers the objects of a spec, for the walker's key-order memo.
	id int
}

func obj(fields ...field) *object { return &object{fields: fields} }

func str(name string) field     { return field{name: name, kind: kindString, nonEmpty: true} }
func text(name string) field    { return field{name: name, kind: kindString} }
func strs(name string) field    { return field{name: name, kind: kindStrings} }
func anyv(name string) field    { return field{name: name, kind: kindAny} }
func anys(name string) field    { return field{name: name, kind: kindAny, array: true} }
func boolean(name string) field { return field{name: name, kind: kindBool} }
func count(name string) field   { return field{name: name, kind: kindCount, min: 0, max: maxExact} }
func tstamp(name string) field  { return field{name: name, kind: kindTime} }
func server(name string) field  { return field{name: name, kind: kindServer} }

func enum(name string, values []string) field {
	return field{name: name, kind: kindEnum, enum: values}
}

func num(name string, lo, hi float64) field {
	return field{name: name, kind: kindNumber, min: lo, max: hi}
}

func nested(name string, o *object) field  { return field{name: name, kind: kindObject, obj: o} }
func nesteds(name string, o *object) field { return field{name: name, kind: kindObjects, obj: o} }

var (
	inf   = math.Inf(1)
	ninf  = math.Inf(-1)
	maxMS = float64(int64(1) << 53)
	// maxExact is the largest integer a JSON number carries exactly (a
	// float64; JavaScript's Number.MAX_SAFE_INTEGER). Counts beyond it are
	// rejected, not silently rounded.
	maxExact = float64(int64(1)<<53 - 1)
)

func nonNeg(name string) field { return num(name, 0, inf) }
func ratio(name string) field  { return num(name, 0, 1) }
func pct(name string) field    { return num(name, 0, 100) }
func signed(name string) field { return num(name, ninf, inf) }

func (f field) req() field               { f.required = true; return f }
func (f field) attr(key string) field    { f.role, f.key = roleAttr, key; return f }
func (f field) res(key string) field     { f.role, f.key = roleResource, key; return f }
func (f field) dim(key string) field     { f.role, f.key = roleDim, key; return f }
func (f field) at() field                { f.role = roleTimestamp; return f }
func (f field) start() field             { f.role = roleStart; return f }
func (f field) lv(vals ...float64) field { f.levels = vals; return f }
func (f field) rng(lo, hi float64) field { f.min, f.max = lo, hi; return f }

// ident marks a user id: at most schema.MaxUserIDLength bytes, the forget
// API's limit, so that every id an event carries can be forgotten.
func (f field) ident() field { f.maxLen = schema.MaxUserIDLength; return f }

// gauge makes the field a point of the catalog's snapshot gauge called
// name; it panics, at init, when the catalog has no such gauge or its
// value type is not the field's (emit writes counts, booleans and lengths
// as integers).
func (f field) gauge(name string, attrs ...[2]string) field {
	def, ok := catalog.ByName(name)
	if !ok || def.Source != catalog.Snapshot || def.Kind != catalog.Gauge {
		panic("decoder: " + name + " is not a snapshot gauge of internal/catalog")
	}
	isInt := f.kind == kindCount || f.kind == kindBool || f.kind == kindStrings || f.kind == kindObjects
	if def.Int != isInt {
		panic("decoder: field " + f.name + " and the catalog disagree on whether " + name + " is an integer")
	}
	f.role = roleMetric
	f.metric = &gauge{def: &def, attrs: attrs}
	return f
}

// spec is the compiled schema of one endpoint.
type spec struct {
	root    *object
	flat    []*field // every field with a slot, in document order
	res     []*field // resource fields, at most maxResourceFields
	wrapper string   // key of the {"<wrapper>":[...]} request form
	metrics []*gauge
	dims    []*field
	objects int // how many objects the spec has (object.id < objects)
	// paths holds the path of every field, array elements as "[]": the
	// bounded set of field labels (source.go).
	paths map[string]struct{}
	// platform is the slot of the root's platform enum, -1 when none.
	platform int
}

// compile numbers the slots, fills paths and indexes names.
func compile(root *object, wrapper string) *spec {
	s := &spec{root: root, wrapper: wrapper, paths: map[string]struct{}{}, platform: -1}
	var walk func(o *object, prefix string, slotted bool)
	walk = func(o *object, prefix string, slotted bool) {
		if o.byName != nil {
			panic("decoder: an object spec is used twice; its id would be ambiguous: " + prefix)
		}
		o.path = prefix
		o.id = s.objects
		s.objects++
		o.byName = make(map[string]int, len(o.fields))
		if len(o.fields) > 64 {
			panic("decoder: more than 64 fields in one object")
		}
		for i := range o.fields {
			f := &o.fields[i]
			o.byName[f.name] = i
			f.parent = o
			f.path = f.name
			if prefix != "" {
				f.path = prefix + "." + f.name
			}
			s.paths[f.path] = struct{}{}
			f.slot = -1
			if slotted {
				f.slot = len(s.flat)
				s.flat = append(s.flat, f)
			}
			switch f.kind {
			case kindObject:
				walk(f.obj, f.path, slotted)
			case kindObjects:
				walk(f.obj, f.path+"[]", false)
			}
			if f.role == roleResource {
				s.res = append(s.res, f)
			}
			if f.role == roleDim && slotted {
				s.dims = append(s.dims, f)
			}
			if f.metric != nil {
				s.metrics = append(s.metrics, f.metric)
			}
		}
	}
	walk(root, "", true)
	if i, ok := root.byName["platform"]; ok && root.fields[i].kind == kindEnum && slices.Equal(root.fields[i].enum, schema.Platforms) {
		s.platform = root.fields[i].slot
	}
	if len(s.res) > maxResourceFields {
		panic("decoder: too many resource fields")
	}
	for _, f := range s.dims {
		for _, m := range s.metrics {
			m.dims = append(m.dims, f.key)
		}
	}
	return s
}

// lookup returns the slot of a dotted path; it panics on a typo, at init.
func (s *spec) lookup(path string) int {
	for _, f := range s.flat {
		if f.path == path {
			return f.slot
		}
	}
	panic("decoder: no field " + path)
}

// Endpoint schemas. Field names are the seed's (camelCase); docs/events.md
// lists them with their attribute keys.

var eventSpec = compile(obj(
	str("eventId").req().attr(schema.AttrEventID),
	str("sessionId").req().attr(schema.AttrSessionID),
	str("userId").ident().attr(schema.AttrUserID),
	str("deviceId").req().attr(schema.AttrDeviceID),
	enum("eventType", schema.EventTypes).req().attr(schema.AttrEventType),
	str("category").req().attr(schema.AttrCategory),
	str("action").req().attr(schema.AttrAction),
	nested("properties", obj(
		text("page").attr(schema.AttrPage),
		text("feature").attr(schema.AttrFeature),
		signed("value").attr(schema.AttrValue),
		nonNeg("duration").attr(schema.AttrDuration),
		anyv("metadata").attr(schema.AttrMetadata),
	)).req(),
	text("userAgent").attr(schema.AttrUserAgent),
	enum("platform", schema.Platforms).req().res(schema.ResourcePlatform),
	str("appVersion").req().res(schema.ResourceAppVersion),
	enum("consentLevel", schema.ConsentLevels).req().attr(schema.AttrConsentLevel),
	count("dataRetentionDays").rng(1, 36500).req().attr(schema.AttrDataRetentionDays),
	tstamp("timestamp").req().at(),
	nested("behavior", obj(
		enum("behaviorType", schema.BehaviorTypes).req().attr(schema.AttrBehaviorType),
		// The seed's userBehaviorEvents repeats these; they must match the event's.
		str("eventId"),
		str("sessionId"),
		str("userId").ident(),
		tstamp("timestamp"),
		nested("pageData", obj(
			str("path").req().attr(schema.AttrPagePath),
			text("title").req().attr(schema.AttrPageTitle),
			text("referrer").attr(schema.AttrPageReferrer),
			nonNeg("timeOnPage").attr(schema.AttrPageTimeOnPage),
			pct("scrollDepth").attr(schema.AttrPageScrollDep),
			boolean("exitPage").attr(schema.AttrPageExit),
		)),
		nested("interactionData", obj(
			str("elementType").req().attr(schema.AttrInteractionElementType),
			text("elementId").attr(schema.AttrInteractionElementID),
			text("elementText").attr(schema.AttrInteractionElementText),
			nested("clickPosition", obj(
				signed("x").req().attr(schema.AttrInteractionClickX),
				signed("y").req().attr(schema.AttrInteractionClickY),
			)),
			count("interactionCount").attr(schema.AttrInteractionCount),
		)),
		nested("engagementData", obj(
			str("contentType").req().attr(schema.AttrEngagementContentType),
			text("contentId").attr(schema.AttrEngagementContentID),
			nonNeg("engagementDuration").req().attr(schema.AttrEngagementDuration),
			pct("completionPercentage").attr(schema.AttrEngagementCompletion),
			num("ratingGiven", 1, 5).attr(schema.AttrEngagementRating),
			boolean("shared").attr(schema.AttrEngagementShared),
		)),
		nested("conversionData", obj(
			str("goalType").req().attr(schema.AttrConversionGoalType),
			nonNeg("goalValue").attr(schema.AttrConversionGoalValue),
			str("funnelStep").req().attr(schema.AttrConversionFunnelStep),
			nonNeg("conversionTime").req().attr(schema.AttrConversionTime),
			strs("previousSteps").req().attr(schema.AttrConversionPreviousSteps),
		)),
	)),
	server("serverTimestamp"),
	server("isAnonymized"),
	server("isValid"),
	server("qualityScore"),
	server("processingStatus"),
), "events")

var recommendationSpec = compile(obj(
	str("recommendationId").req().attr(schema.AttrRecommendationID),
	str("userId").ident().req().attr(schema.AttrUserID),
	// A recommendation is shown to a known user, so it carries that user's
	// consent like an event does; without it the privacy processor would
	// read "necessary" and drop it (fail closed), so it is required here.
	enum("consentLevel", schema.ConsentLevels).req().attr(schema.AttrConsentLevel),
	// Required on a full record, optional on a later response (see hooks).
	str("modelId").attr(schema.AttrModelID),
	str("modelVersion").attr(schema.AttrModelVersion),
	enum("recommendationType", schema.RecommendationTypes).attr(schema.AttrRecommendationType),
	nested("recommendationData", obj(
		anys("items").req().attr(schema.AttrRecommendationItems),
		ratio("confidence").req().attr(schema.AttrConfidence),
		text("reasoning").attr(schema.AttrReasoning),
		strs("personalizedFactors").req().attr(schema.AttrPersonalizedFactors),
	)),
	nested("userResponse", obj(
		enum("action", schema.ResponseActions).req().attr(schema.AttrResponseAction),
		nonNeg("responseTime").req().attr(schema.AttrResponseTime),
		strs("modifications").attr(schema.AttrResponseModifications),
		nested("feedback", obj(
			num("rating", 1, 5).req().attr(schema.AttrResponseRating),
			text("comment").attr(schema.AttrResponseComment),
		)),
	)),
	nested("context", obj(
		str("timeOfDay").req().attr(schema.AttrContextTimeOfDay),
		str("dayOfWeek").req().attr(schema.AttrContextDayOfWeek),
		strs("userGoals").req().attr(schema.AttrContextUserGoals),
		strs("recentActivity").req().attr(schema.AttrContextRecentActivity),
		str("deviceType").req().attr(schema.AttrContextDeviceType),
	)),
	nested("engagementMetrics", obj(
		nonNeg("viewDuration").req().attr(schema.AttrViewDuration),
		ratio("clickThroughRate").req().attr(schema.AttrClickThroughRate),
		ratio("completionRate").attr(schema.AttrCompletionRate),
	)),
	tstamp("timestamp").at(),
	tstamp("responseTimestamp").attr(schema.AttrResponseTimestamp),
	server("serverTimestamp"),
	server("isAnonymized"),
	server("isValid"),
	server("qualityScore"),
	server("processingStatus"),
), "recommendations")

var levels123 = []float64{1, 2, 3}

var modelSpec = compile(obj(
	str("modelId").req().dim("model_id"),
	str("modelVersion").req().dim("model_version"),
	enum("modelType", schema.ModelTypes).req().dim("model_type"),
	ratio("accuracyScore").req().gauge("pulse.ai.model.accuracy"),
	ratio("precisionScore").req().gauge("pulse.ai.model.precision"),
	ratio("recallScore").req().gauge("pulse.ai.model.recall"),
	ratio("f1Score").req().gauge("pulse.ai.model.f1"),
	nonNeg("predictionLatency").req().gauge("pulse.ai.model.prediction.latency"),
	nonNeg("throughput").req().gauge("pulse.ai.model.throughput"),
	ratio("errorRate").req().gauge("pulse.ai.model.error_rate"),
	ratio("acceptanceRate").req().gauge("pulse.ai.model.acceptance_rate"),
	ratio("modificationRate").req().gauge("pulse.ai.model.modification_rate"),
	num("satisfactionScore", 1, 5).gauge("pulse.ai.model.satisfaction"),
	nested("dataDrift", obj(
		boolean("detected").req().gauge("pulse.ai.model.drift.detected"),
		enum("severity", schema.Levels).req().lv(levels123...).gauge("pulse.ai.model.drift.severity"),
		strs("affectedFeatures").req().gauge("pulse.ai.model.drift.affected_features"),
		nonNeg("driftScore").req().gauge("pulse.ai.model.drift.score"),
	)).req(),
	nested("safetyMetrics", obj(
		count("violationCount").req().gauge("pulse.ai.model.safety.violations"),
		pct("safetyScore").req().gauge("pulse.ai.model.safety.score"),
		text("lastViolationType"),
		enum("riskLevel", schema.Levels).req().lv(levels123...).gauge("pulse.ai.model.safety.risk_level"),
	)).req(),
	nested("resourceUsage", obj(
		pct("cpuUtilization").req().gauge("pulse.ai.model.cpu.utilization"),
		nonNeg("memoryUsage").req().gauge("pulse.ai.model.memory.usage"),
		pct("gpuUtilization").gauge("pulse.ai.model.gpu.utilization"),
		nonNeg("costPerPrediction").gauge("pulse.ai.model.cost_per_prediction"),
	)).req(),
	nested("evaluationPeriod", obj(
		tstamp("startTime").req().start(),
		tstamp("endTime").req(),
		count("sampleSize").req().gauge("pulse.ai.model.evaluation.sample_size"),
	)).req(),
	tstamp("timestamp").req().at(),
), "metrics")

var businessSpec = compile(obj(
	str("metricId").req(),
	str("metricName").req().dim("metric_name"),
	enum("category", schema.BusinessCategories).req().dim("category"),
	signed("value").req().gauge("pulse.business.value"),
	str("unit").req().dim("unit"),
	signed("previousValue").gauge("pulse.business.previous_value"),
	signed("percentChange").gauge("pulse.business.percent_change"),
	enum("trend", schema.Trends).req().lv(1, -1, 0).gauge("pulse.business.trend"),
	nested("dimensions", obj(
		enum("timeGranularity", schema.TimeGranularities).req().dim("granularity"),
		str("segment").dim("segment"),
		str("channel").dim("channel"),
		str("geography").dim("geography"),
		str("platform").dim("platform"),
	)).req(),
	ratio("confidence").req().gauge("pulse.business.confidence"),
	count("sampleSize").gauge("pulse.business.sample_size"),
	tstamp("periodStart").req().start(),
	tstamp("periodEnd").req(),
	tstamp("timestamp").req().at(),
), "metrics")

var systemSpec = compile(obj(
	str("serviceName").req().res("service.name"),
	str("serviceVersion").req().res("service.version"),
	enum("environment", schema.Environments).req().dim("environment"),
	nested("responseTime", obj(
		nonNeg("average").req().gauge("pulse.system.response_time", [2]string{"stat", "average"}),
		nonNeg("median").req().gauge("pulse.system.response_time", [2]string{"stat", "median"}),
		nonNeg("p95").req().gauge("pulse.system.response_time", [2]string{"stat", "p95"}),
		nonNeg("p99").req().gauge("pulse.system.response_time", [2]string{"stat", "p99"}),
	)).req(),
	nested("throughput", obj(
		nonNeg("requestsPerSecond").req().gauge("pulse.system.requests.rate"),
		nonNeg("transactionsPerSecond").req().gauge("pulse.system.transactions.rate"),
	)).req(),
	nested("errorMetrics", obj(
		ratio("errorRate").req().gauge("pulse.system.error_rate"),
		count("errorCount").req().gauge("pulse.system.errors"),
		nesteds("errorTypes", obj(
			str("type").req().dim("error_type"),
			count("count").req(),
		)).req().gauge("pulse.system.errors_by_type"),
	)).req(),
	nested("resourceUsage", obj(
		pct("cpuUtilization").req().gauge("pulse.system.cpu.utilization"),
		pct("memoryUtilization").req().gauge("pulse.system.memory.utilization"),
		pct("diskUtilization").req().gauge("pulse.system.disk.utilization"),
		nested("networkIO", obj(
			nonNeg("bytesIn").req().gauge("pulse.system.network.io", [2]string{"direction", "in"}),
			nonNeg("bytesOut").req().gauge("pulse.system.network.io", [2]string{"direction", "out"}),
		)).req(),
	)).req(),
	nested("databaseMetrics", obj(
		nested("queryTime", obj(
			nonNeg("average").req().gauge("pulse.system.db.query_time"),
			count("slowQueries").req().gauge("pulse.system.db.slow_queries"),
		)).req(),
		nested("connectionPool", obj(
			count("activeConnections").req().gauge("pulse.system.db.connections.active"),
			ratio("poolUtilization").req().gauge("pulse.system.db.pool.utilization"),
		)).req(),
	)),
	nested("availability", obj(
		pct("uptime").req().gauge("pulse.system.uptime"),
		nonNeg("downtimeMinutes").req().gauge("pulse.system.downtime"),
		count("incidentCount").req().gauge("pulse.system.incidents"),
	)).req(),
	nested("timeWindow", obj(
		tstamp("start").req().start(),
		tstamp("end").req(),
		str("granularity").req().dim("granularity"),
	)).req(),
	tstamp("timestamp").req().at(),
), "metrics")
