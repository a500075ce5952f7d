package decoder

import (
	"errors"
	"fmt"
	"time"

	"github.com/valyala/fastjson"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pulse-otel/pulse/internal/catalog"
)

// Kind is one of the receiver's endpoints.
type Kind uint8

const (
	// Events is POST /v1/events: analytics events with behaviour details.
	Events Kind = iota
	// Recommendations is POST /v1/recommendations: AI recommendations and
	// later user responses.
	Recommendations
	// ModelMetrics is POST /v1/model-metrics: AI model evaluation snapshots.
	ModelMetrics
	// BusinessMetrics is POST /v1/business-metrics.
	BusinessMetrics
	// SystemMetrics is POST /v1/system-metrics.
	SystemMetrics
)

var kindNames = [...]string{"events", "recommendations", "model-metrics", "business-metrics", "system-metrics"}

// String returns the endpoint's path segment.
func (k Kind) String() string { return kindNames[k] }

// IsLogs reports whether the endpoint produces log records (else metrics).
func (k Kind) IsLogs() bool { return k == Events || k == Recommendations }

// Wrapper is the key of the {"<key>": [...]} request form of the endpoint.
func (k Kind) Wrapper() string { return specs[k].wrapper }

var specs = [...]*spec{eventSpec, recommendationSpec, modelSpec, businessSpec, systemSpec}

// SnapshotMetrics lists the metrics the three snapshot endpoints emit, one
// entry per metric name, as their specs define them: the catalog entry with
// the labels the decoder really puts on its points (the endpoint's dims,
// fixed attributes, error_type). Tests compare it with
// catalog.SnapshotMetrics().
func SnapshotMetrics() []catalog.Metric {
	var out []catalog.Metric
	seen := map[string]bool{}
	for _, k := range []Kind{ModelMetrics, BusinessMetrics, SystemMetrics} {
		for _, g := range specs[k].metrics {
			if seen[g.def.Name] {
				continue
			}
			seen[g.def.Name] = true
			d := *g.def
			d.Labels = append([]string(nil), g.dims...)
			for _, a := range g.attrs {
				d.Labels = append(d.Labels, a[0])
			}
			if d.Name == "pulse.system.errors_by_type" {
				d.Labels = append(d.Labels, errorTypeLabel)
			}
			out = append(out, d)
		}
	}
	return out
}

// Options bound what one request may hold. Zero values take the defaults.
type Options struct {
	// MaxEvents is the most events one request may carry.
	MaxEvents int
	// MaxDepth is the deepest nesting allowed in free-form values
	// (properties.metadata, recommendationData.items).
	MaxDepth int
	// MaxStringLength is the longest string value, in bytes.
	MaxStringLength int
	// MaxArrayLength is the longest array.
	MaxArrayLength int
	// MaxFutureSkew is how far ahead of the server's clock a timestamp may be.
	MaxFutureSkew time.Duration
	// DefaultRetention is the oldest a timestamp may be when the record has
	// no dataRetentionDays of its own.
	DefaultRetention time.Duration
	// MaxSnapshotAge is the oldest a snapshot (model, business or system
	// metrics) may be: the metrics store refuses samples older than its
	// out-of-order window, so an older snapshot would be acknowledged and
	// lost.
	MaxSnapshotAge time.Duration
	// MaxValues is the most JSON values (every string, number, literal,
	// array and object) one request may hold, counted before anything is
	// parsed. It bounds the memory of the parse and of the pdata built
	// from it, about 100 and 70 bytes per value.
	MaxValues int
	// Labels bound the label values of snapshot metrics (labels.go).
	Labels LabelLimits
}

// The defaults of Options.
const (
	DefaultMaxEvents       = 1000
	DefaultMaxDepth        = 8
	DefaultMaxStringLength = 8192
	DefaultMaxArrayLength  = 1000
	DefaultMaxFutureSkew   = 5 * time.Minute
	DefaultRetentionPeriod = 730 * 24 * time.Hour
	// DefaultMaxSnapshotAge is promstore's default out_of_order_time_window.
	DefaultMaxSnapshotAge = 7 * 24 * time.Hour
	// DefaultMaxValues is twice a full batch of DefaultMaxEvents events
	// with every field and behaviour detail set (about 40 values each).
	DefaultMaxValues = 100_000
)

func (o Options) withDefaults() Options {
	if o.MaxEvents <= 0 {
		o.MaxEvents = DefaultMaxEvents
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxStringLength <= 0 {
		o.MaxStringLength = DefaultMaxStringLength
	}
	if o.MaxArrayLength <= 0 {
		o.MaxArrayLength = DefaultMaxArrayLength
	}
	if o.MaxFutureSkew <= 0 {
		o.MaxFutureSkew = DefaultMaxFutureSkew
	}
	if o.DefaultRetention <= 0 {
		o.DefaultRetention = DefaultRetentionPeriod
	}
	if o.MaxSnapshotAge <= 0 {
		o.MaxSnapshotAge = DefaultMaxSnapshotAge
	}
	if o.MaxValues <= 0 {
		o.MaxValues = DefaultMaxValues
	}
	return o
}

// Request-level errors. Decode wraps them with the detail.
var (
	ErrMalformed     = errors.New("malformed JSON")
	ErrShape         = errors.New("unexpected body shape")
	ErrEmpty         = errors.New("no events in request")
	ErrTooManyEvents = errors.New("too many events in one request")
)

// FieldError is one problem with one field of one event. Value never holds
// free text a client sent: strings are described by their length only.
type FieldError struct {
	Field  string `json:"field"`
	Value  string `json:"value,omitempty"`
	Reason string `json:"reason"`
}

// Rejection lists every problem found in the event at Index.
type Rejection struct {
	Index  int          `json:"index"`
	Errors []FieldError `json:"errors"`
	// codes holds the code of each of Errors, set where it was raised.
	codes []Code
	// field is the schema field of the first error ("" : none); platform
	// is the item's platform index + 1 (0: unknown). See source.go.
	field    string
	platform int
}

// Code returns the code of the first error, the reason label of
// otelcol_receiver_analytics_rejected_items.
func (r Rejection) Code() Code {
	if len(r.codes) == 0 {
		return CodeOther
	}
	return r.codes[0]
}

// Result is what one request became.
type Result struct {
	// Logs holds the accepted events of a log endpoint.
	Logs plog.Logs
	// Metrics holds the accepted snapshots of a metrics endpoint.
	Metrics pmetric.Metrics
	// Accepted counts the accepted events or snapshots.
	Accepted int
	// AcceptedBy counts the accepted items by platform index (PlatformName).
	AcceptedBy []int
	// Rejected lists the events that were not accepted, in index order.
	Rejected []Rejection
	// Items counts log records or metric data points produced.
	Items int
	// recordIdx holds, for a log endpoint, per resource of Logs in order,
	// the request index of each of its records (see RequestIndex).
	recordIdx [][]int
	// Folded counts the accepted snapshots that had a label value replaced
	// by "_other" (labels.go); Folds says which labels, how often.
	Folded int
	Folds  []LabelFold
}

// Decoder turns request bodies into pdata. It is safe for concurrent use.
type Decoder struct {
	opts    Options
	parsers fastjson.ParserPool
	limits  [len(kindNames)]scanLimits
	labels  families
}

// New returns a Decoder with the given limits.
func New(opts Options) *Decoder {
	d := &Decoder{opts: opts.withDefaults()}
	for k, sp := range specs {
		tree, names := specTree(sp)
		d.limits[k] = scanLimits{
			maxItems:  d.opts.MaxEvents,
			maxArray:  d.opts.MaxArrayLength,
			maxString: d.opts.MaxStringLength,
			maxDepth:  d.opts.MaxDepth,
			maxValues: d.opts.MaxValues,
			wrapper:   sp.wrapper,
			tree:      tree,
			names:     names,
		}
	}
	d.labels = newFamilies(d.opts.Labels)
	return d
}

// reasonInexact is the error of an integer too large for a JSON number
// (a float64) to carry exactly.
const reasonInexact = "must be an exact integer, at most 2^53-1 (9007199254740991); larger integers are rounded by JSON parsers"

// maxErrorsPerEvent caps the errors reported for one event.
const maxErrorsPerEvent = 20

// Decode validates body as a request to the kind's endpoint and converts the
// valid events. now is the server's receive time (serverTimestamp). An error
// means the whole request is unusable; otherwise Result says which events
// were accepted and why the others were not.
func (d *Decoder) Decode(kind Kind, body []byte, now time.Time) (*Result, error) {
	// The pre-scan (scan.go) validates the whole body strictly and applies
	// the size limits before fastjson allocates anything; then each valid
	// item is parsed on its own, so the parser holds one item at a time.
	sc := scanners.Get().(*scanner)
	defer func() {
		sc.b = nil
		if cap(sc.items) <= 4*DefaultMaxEvents {
			scanners.Put(sc)
		}
	}()
	sc.reset(body, &d.limits[kind])
	if err := sc.scan(); err != nil {
		return nil, err
	}
	sp := specs[kind]
	items := sc.items
	p := d.parsers.Get()
	defer d.parsers.Put(p)

	w := &walker{
		opts:  &d.opts,
		sp:    sp,
		vals:  make([]*fastjson.Value, len(sp.flat)),
		nums:  make([]float64, len(sp.flat)),
		now:   now,
		elem:  -1,
		order: make([][64]int8, sp.objects),
	}
	// The arena holds the strings of the items that will be parsed.
	size := 0
	for i, it := range items {
		if !sc.rejected(i) {
			size += it.end - it.start
		}
	}
	e := newEmitter(kind, sp, size, len(items), now)
	e.bind(&d.labels)
	res := &Result{AcceptedBy: make([]int, NumPlatforms)}
	bad := sc.itemErrs
	for i, it := range items {
		if len(bad) > 0 && bad[0].index == i {
			res.Rejected = append(res.Rejected, Rejection{Index: i, Errors: []FieldError{bad[0].err}, codes: []Code{bad[0].code}, field: sp.fieldLabel(bad[0].err.Field)})
			bad = bad[1:]
			continue
		}
		item, err := p.ParseBytes(body[it.start:it.end])
		if err != nil { // cannot happen after the scan; never echo fastjson's text
			return nil, fmt.Errorf("%w: item %d", ErrMalformed, i)
		}
		clear(w.vals)
		clear(w.nums)
		w.errs, w.codes = w.errs[:0], w.codes[:0]
		w.walk(kind, item)
		if len(w.errs) > 0 {
			errs, codes := w.errs, w.codes
			if len(errs) > maxErrorsPerEvent {
				errs = append(errs[:maxErrorsPerEvent:maxErrorsPerEvent], FieldError{
					Reason: fmt.Sprintf("%d more errors not shown", len(w.errs)-maxErrorsPerEvent),
				})
				codes = append(codes[:maxErrorsPerEvent:maxErrorsPerEvent], CodeOther)
			}
			res.Rejected = append(res.Rejected, Rejection{
				Index:    i,
				Errors:   append([]FieldError(nil), errs...),
				codes:    append([]Code(nil), codes...),
				field:    sp.fieldLabel(errs[0].Field),
				platform: w.rejectedPlatform(),
			})
			continue
		}
		res.Items += e.emit(w, i)
		res.Accepted++
		res.AcceptedBy[w.platformOf()]++
	}
	res.Logs, res.Metrics = e.logs, e.md
	res.Folded, res.Folds = e.folded, e.foldList()
	if kind.IsLogs() {
		res.recordIdx = e.logIdx
	}
	return res, nil
}

// RequestIndex returns the request index of the log record at position
// record of Logs, counted resource by resource, scope by scope, record by
// record (the numbering of a receipt.Drop), or false when there is none.
// Drops are rare, so the position is found by a walk, not a table built
// for every request.
func (r *Result) RequestIndex(record int) (int, bool) {
	if record < 0 {
		return 0, false
	}
	for _, g := range r.recordIdx {
		if record < len(g) {
			return g[record], true
		}
		record -= len(g)
	}
	return 0, false
}
