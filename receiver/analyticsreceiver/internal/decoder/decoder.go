// Package decoder validates the analytics receiver's JSON bodies and converts
// them to pdata in one pass over a parsed document. Strings are copied once
// into a per-request arena, so the cost per event is dominated by the pdata
// values themselves.
package decoder // import "github.com/pulse-otel/pulse/receiver/analyticsreceiver/internal/decoder"

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
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
// entry per metric name, for documentation and catalog tests.
func SnapshotMetrics() []MetricDef {
	var out []MetricDef
	seen := map[string]bool{}
	for _, k := range []Kind{ModelMetrics, BusinessMetrics, SystemMetrics} {
		for _, m := range specs[k].metrics {
			if seen[m.Name] {
				continue
			}
			seen[m.Name] = true
			d := *m
			d.Dims = append([]string(nil), m.Dims...)
			for _, a := range m.Attrs {
				d.Dims = append(d.Dims, a[0])
			}
			if m.Name == "pulse.system.errors_by_type" {
				d.Dims = append(d.Dims, "error_type")
			}
			d.Attrs = nil
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
}

// Result is what one request became.
type Result struct {
	// Logs holds the accepted events of a log endpoint.
	Logs plog.Logs
	// Metrics holds the accepted snapshots of a metrics endpoint.
	Metrics pmetric.Metrics
	// Accepted counts the accepted events or snapshots.
	Accepted int
	// Rejected lists the events that were not accepted, in index order.
	Rejected []Rejection
	// Items counts log records or metric data points produced.
	Items int
	// RecordIndex gives, for a log endpoint, the request index of each log
	// record in Logs, in the order of its resource, scope and record
	// slices: the numbering of a receipt.Drop.
	RecordIndex []int
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
	res := &Result{}
	bad := sc.itemErrs
	for i, it := range items {
		if len(bad) > 0 && bad[0].index == i {
			res.Rejected = append(res.Rejected, Rejection{Index: i, Errors: []FieldError{bad[0].err}})
			bad = bad[1:]
			continue
		}
		item, err := p.ParseBytes(body[it.start:it.end])
		if err != nil { // cannot happen after the scan; never echo fastjson's text
			return nil, fmt.Errorf("%w: item %d", ErrMalformed, i)
		}
		clear(w.vals)
		clear(w.nums)
		w.errs = w.errs[:0]
		w.walk(kind, item)
		if len(w.errs) > 0 {
			errs := w.errs
			if len(errs) > maxErrorsPerEvent {
				errs = append(errs[:maxErrorsPerEvent:maxErrorsPerEvent], FieldError{
					Reason: fmt.Sprintf("%d more errors not shown", len(w.errs)-maxErrorsPerEvent),
				})
			}
			res.Rejected = append(res.Rejected, Rejection{Index: i, Errors: append([]FieldError(nil), errs...)})
			continue
		}
		res.Items += e.emit(w, i)
		res.Accepted++
	}
	res.Logs, res.Metrics = e.logs, e.md
	res.Folded, res.Folds = e.folded, e.foldList()
	if kind.IsLogs() {
		res.RecordIndex = e.recordIndex()
	}
	return res, nil
}

// walker validates one event and remembers its valid values by slot.
type walker struct {
	opts *Options
	sp   *spec
	vals []*fastjson.Value
	nums []float64 // parsed numbers, times, enum indexes and booleans by slot
	errs []FieldError
	now  time.Time
	elem int // index inside an array of objects, for error paths

	full bool // recommendations: a full record, not a later response

	// order remembers, per object of the spec, which field the n-th key of
	// the last such object was (index+1; 0: unknown). The items of one
	// request come from one client and keep their key order, so the name
	// check usually replaces the map lookup.
	order [][64]int8
}

func (w *walker) fail(path string, f *field, v *fastjson.Value, reason string) {
	if w.elem >= 0 {
		path = strings.Replace(path, "[]", "["+strconv.Itoa(w.elem)+"]", 1)
	}
	w.errs = append(w.errs, FieldError{Field: path, Value: describe(f, v), Reason: reason})
}

// describe renders an offending value for an error without leaking text:
// numbers and booleans as they are, enum-like tokens as they are, any other
// string by its length only.
func describe(f *field, v *fastjson.Value) string {
	if v == nil {
		return ""
	}
	switch v.Type() {
	case fastjson.TypeString:
		b := v.GetStringBytes()
		if f != nil && f.kind == kindEnum && isToken(b) {
			return strconv.Quote(string(b))
		}
		return fmt.Sprintf("<string of %d bytes>", len(b))
	case fastjson.TypeObject:
		return "<object>"
	case fastjson.TypeArray:
		return "<array>"
	case fastjson.TypeNumber:
		var buf [32]byte
		b := v.MarshalTo(buf[:0])
		if !showNumber(f, b) {
			return fmt.Sprintf("<number of %d characters>", len(b))
		}
		return string(b)
	default:
		return v.String()
	}
}

// showNumber reports whether a number may be echoed in an error: only in a
// numeric field, and only when it is too short to be a phone or card number
// (timestamps excepted).
func showNumber(f *field, b []byte) bool {
	if f == nil || len(b) > 24 {
		return false
	}
	switch f.kind {
	case kindTime:
		return true
	case kindNumber, kindCount:
		digits := 0
		for _, c := range b {
			if c >= '0' && c <= '9' {
				digits++
			}
		}
		return digits <= 8
	}
	return false
}

// isToken reports whether b looks like an enum member: short, lower-case
// letters, '_' and '-' only. Such a value cannot carry an email, a phone
// number or a capitalised name.
func isToken(b []byte) bool {
	if len(b) == 0 || len(b) > 32 {
		return false
	}
	for _, c := range b {
		if (c < 'a' || c > 'z') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func (w *walker) walk(kind Kind, v *fastjson.Value) {
	if v.Type() != fastjson.TypeObject {
		w.fail("", nil, v, "must be a JSON object")
		return
	}
	seen := w.object(w.sp.root, v)
	hooks[kind](w, seen)
}

// object validates the fields of one object and returns which were present
// (an optional null is absent).
func (w *walker) object(o *object, v *fastjson.Value) uint64 {
	ov, _ := v.Object()
	var seen, present uint64
	ord := &w.order[o.id]
	pos := 0
	ov.Visit(func(k []byte, fv *fastjson.Value) {
		var i int
		ok := false
		if pos < len(ord) {
			if g := ord[pos]; g > 0 && o.fields[g-1].name == string(k) {
				i, ok = int(g-1), true
			}
		}
		if !ok {
			i, ok = o.byName[string(k)]
			if ok && pos < len(ord) {
				ord[pos] = int8(i + 1)
			}
		}
		pos++
		if !ok {
			name := "<field name of " + strconv.Itoa(len(k)) + " bytes>"
			if isToken(k) {
				name = string(k)
			}
			if o.path != "" {
				name = o.path + "." + name
			}
			w.fail(name, nil, nil, "unknown field")
			return
		}
		f := &o.fields[i]
		bit := uint64(1) << i
		if seen&bit != 0 {
			w.fail(f.path, f, nil, "duplicate field")
			return
		}
		seen |= bit
		if fv.Type() == fastjson.TypeNull && !f.required {
			return
		}
		present |= bit
		w.value(f, fv)
	})
	for i := range o.fields {
		f := &o.fields[i]
		if f.required && seen&(uint64(1)<<i) == 0 {
			w.fail(f.path, f, nil, "required field is missing")
		}
	}
	return present
}

func typeName(t fastjson.Type) string {
	switch t {
	case fastjson.TypeTrue, fastjson.TypeFalse:
		return "a boolean"
	case fastjson.TypeNumber:
		return "a number"
	case fastjson.TypeString:
		return "a string"
	case fastjson.TypeArray:
		return "an array"
	case fastjson.TypeObject:
		return "an object"
	default:
		return "null"
	}
}

func (w *walker) wrongType(f *field, v *fastjson.Value, want string) {
	w.fail(f.path, f, v, "must be "+want+", not "+typeName(v.Type()))
}

// str validates a string value and returns its bytes.
func (w *walker) str(f *field, v *fastjson.Value, path string) ([]byte, bool) {
	if v.Type() != fastjson.TypeString {
		w.fail(path, f, v, "must be a string, not "+typeName(v.Type()))
		return nil, false
	}
	b := v.GetStringBytes()
	switch {
	case len(b) > w.opts.MaxStringLength:
		w.fail(path, f, v, "longer than "+strconv.Itoa(w.opts.MaxStringLength)+" bytes")
	case !utf8.Valid(b):
		w.fail(path, f, v, "not valid UTF-8")
	default:
		return b, true
	}
	return nil, false
}

func (w *walker) number(f *field, v *fastjson.Value) (float64, bool) {
	if v.Type() != fastjson.TypeNumber {
		w.wrongType(f, v, "a number")
		return 0, false
	}
	x, err := v.Float64()
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
		w.fail(f.path, f, v, "not a finite number")
		return 0, false
	}
	if x < f.min || x > f.max {
		w.fail(f.path, f, v, rangeReason(f.min, f.max))
		return 0, false
	}
	return x, true
}

func rangeReason(lo, hi float64) string {
	switch {
	case math.IsInf(hi, 1) && lo == 0:
		return "must not be negative"
	case math.IsInf(hi, 1):
		return "must be at least " + strconv.FormatFloat(lo, 'g', -1, 64)
	default:
		return "must be between " + strconv.FormatFloat(lo, 'g', -1, 64) + " and " + strconv.FormatFloat(hi, 'g', -1, 64)
	}
}

func (w *walker) value(f *field, v *fastjson.Value) {
	if v.Type() == fastjson.TypeNull {
		if f.required {
			w.fail(f.path, f, v, "required field is null")
		}
		return
	}
	var x float64
	switch f.kind {
	case kindServer:
		return
	case kindString:
		b, ok := w.str(f, v, f.path)
		if !ok {
			return
		}
		if f.nonEmpty && len(b) == 0 {
			w.fail(f.path, f, v, "must not be empty")
			return
		}
		if f.maxLen > 0 && len(b) > f.maxLen {
			w.fail(f.path, f, v, "longer than "+strconv.Itoa(f.maxLen)+" bytes (the longest user id Pulse accepts)")
			return
		}
	case kindEnum:
		b, ok := w.str(f, v, f.path)
		if !ok {
			return
		}
		i := enumIndex(f.enum, b)
		if i < 0 {
			w.fail(f.path, f, v, "must be one of "+strings.Join(f.enum, ", "))
			return
		}
		x = float64(i)
	case kindNumber:
		var ok bool
		if x, ok = w.number(f, v); !ok {
			return
		}
	case kindCount:
		if v.Type() == fastjson.TypeNumber {
			// Checked before the range: 2^53+1 reads as 2^53.
			if y, err := v.Float64(); err == nil && math.Abs(y) > maxExact {
				w.fail(f.path, f, v, reasonInexact)
				return
			}
		}
		var ok bool
		if x, ok = w.number(f, v); !ok {
			return
		}
		if x != math.Trunc(x) {
			w.fail(f.path, f, v, "must be an integer")
			return
		}
	case kindBool:
		switch v.Type() {
		case fastjson.TypeTrue:
			x = 1
		case fastjson.TypeFalse:
		default:
			w.wrongType(f, v, "a boolean")
			return
		}
	case kindTime:
		if v.Type() != fastjson.TypeNumber {
			w.wrongType(f, v, "epoch milliseconds (a number)")
			return
		}
		var err error
		x, err = v.Float64()
		switch {
		case err != nil || math.IsNaN(x) || x <= 0 || x > maxMS:
			w.fail(f.path, f, v, "must be a positive epoch time in milliseconds")
			return
		case x < 1e11:
			w.fail(f.path, f, v, "looks like seconds or a date before 1973; timestamps are epoch milliseconds")
			return
		}
	case kindStrings:
		if v.Type() != fastjson.TypeArray {
			w.wrongType(f, v, "an array of strings")
			return
		}
		arr, _ := v.Array()
		if len(arr) > w.opts.MaxArrayLength {
			w.fail(f.path, f, v, "more than "+strconv.Itoa(w.opts.MaxArrayLength)+" elements")
			return
		}
		for i, el := range arr {
			if _, ok := w.str(f, el, f.path+"["+strconv.Itoa(i)+"]"); !ok {
				return
			}
		}
		x = float64(len(arr))
	case kindAny:
		if f.array && v.Type() != fastjson.TypeArray {
			w.wrongType(f, v, "an array")
			return
		}
		if reason := w.checkAny(v, 1); reason != "" {
			w.fail(f.path, f, nil, reason)
			return
		}
	case kindObject:
		if v.Type() != fastjson.TypeObject {
			w.wrongType(f, v, "an object")
			return
		}
		n := len(w.errs)
		w.object(f.obj, v)
		if len(w.errs) > n {
			return
		}
	case kindObjects:
		if v.Type() != fastjson.TypeArray {
			w.wrongType(f, v, "an array of objects")
			return
		}
		arr, _ := v.Array()
		if len(arr) > w.opts.MaxArrayLength {
			w.fail(f.path, f, v, "more than "+strconv.Itoa(w.opts.MaxArrayLength)+" elements")
			return
		}
		n := len(w.errs)
		for i, el := range arr {
			w.elem = i
			if el.Type() != fastjson.TypeObject {
				w.fail(f.path+"[]", f, el, "must be an object, not "+typeName(el.Type()))
				continue
			}
			w.object(f.obj, el)
		}
		w.elem = -1
		if len(w.errs) > n {
			return
		}
	}
	if f.slot >= 0 {
		w.vals[f.slot] = v
		w.nums[f.slot] = x
	}
}

func enumIndex(enum []string, b []byte) int {
	for i, e := range enum {
		if e == string(b) {
			return i
		}
	}
	return -1
}

// checkAny validates a free-form value: depth, sizes and UTF-8.
func (w *walker) checkAny(v *fastjson.Value, depth int) string {
	if depth > w.opts.MaxDepth {
		return "nested deeper than " + strconv.Itoa(w.opts.MaxDepth) + " levels"
	}
	switch v.Type() {
	case fastjson.TypeString:
		b := v.GetStringBytes()
		if len(b) > w.opts.MaxStringLength {
			return "holds a string longer than " + strconv.Itoa(w.opts.MaxStringLength) + " bytes"
		}
		if !utf8.Valid(b) {
			return "holds a string that is not valid UTF-8"
		}
	case fastjson.TypeNumber:
		if x, err := v.Float64(); err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return "holds a number out of range"
		}
	case fastjson.TypeArray:
		arr, _ := v.Array()
		if len(arr) > w.opts.MaxArrayLength {
			return "holds an array of more than " + strconv.Itoa(w.opts.MaxArrayLength) + " elements"
		}
		for _, el := range arr {
			if r := w.checkAny(el, depth+1); r != "" {
				return r
			}
		}
	case fastjson.TypeObject:
		o, _ := v.Object()
		if o.Len() > w.opts.MaxArrayLength {
			return "holds an object of more than " + strconv.Itoa(w.opts.MaxArrayLength) + " fields"
		}
		var reason string
		o.Visit(func(k []byte, fv *fastjson.Value) {
			if reason != "" {
				return
			}
			if len(k) > w.opts.MaxStringLength || !utf8.Valid(k) {
				reason = "holds a field name that is too long or not valid UTF-8"
				return
			}
			reason = w.checkAny(fv, depth+1)
		})
		return reason
	}
	return ""
}
