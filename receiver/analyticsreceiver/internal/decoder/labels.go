package decoder

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/pulse-otel/pulse/internal/cardinality"
)

// LabelLimits bound the label values a client can put on snapshot metrics.
// Zero values take the defaults.
type LabelLimits struct {
	// MaxValuesPerLabel is the most distinct values one client-controlled
	// label of one endpoint keeps; later new values become "_other".
	MaxValuesPerLabel int
	// MaxLabelSets is the most distinct combinations of label values one
	// endpoint keeps; a later new combination has all its labels "_other".
	// Each combination is one series per metric of the endpoint.
	MaxLabelSets int
	// MaxValueLength is the longest label value, in bytes; a longer one
	// becomes "_other".
	MaxValueLength int
}

const (
	// DefaultMaxValuesPerLabel is the default of LabelLimits.MaxValuesPerLabel.
	DefaultMaxValuesPerLabel = 1000
	// DefaultMaxLabelSets is the default of LabelLimits.MaxLabelSets.
	DefaultMaxLabelSets = 2000
	// DefaultMaxValueLength is the default of LabelLimits.MaxValueLength.
	DefaultMaxValueLength = 256
)

// errorTypeLabel is the label of pulse.system.errors_by_type's points only.
const errorTypeLabel = "error_type"

// families holds the label bounds of the snapshot endpoints: a family by
// kind (nil for the log endpoints), and the time of the latest point of
// every series that holds "_other".
type families struct {
	fam   [len(kindNames)]*cardinality.Family
	other *otherTimes
}

// otherTimes remembers the latest point of each "_other" series. Several
// snapshots fold into one such series, often at the same time (a daily
// metric's period end): a second point at a time the store already holds
// would be refused as a duplicate sample, and fail the whole request with
// a permanent error. So an "_other" series gets at most one point per time,
// newer than its last one; the later folded values are not emitted.
type otherTimes struct {
	mu     sync.Mutex
	latest map[otherSeries]pcommon.Timestamp
	max    int // entries kept at most; the label-set caps bound them anyway
}

type otherSeries struct {
	kind Kind
	vals labelVals
}

// claim reports whether a point of the "_other" series (kind, vals) at ts
// may be emitted, and records it.
func (o *otherTimes) claim(kind Kind, vals labelVals, ts pcommon.Timestamp) bool {
	k := otherSeries{kind: kind, vals: vals}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.latest == nil { // a decoder without label bounds
		return true
	}
	last, ok := o.latest[k]
	if ok && ts <= last {
		return false
	}
	if !ok {
		if len(o.latest) >= o.max {
			return false
		}
		// The values point into the request's arena: keep copies.
		for i, v := range k.vals {
			k.vals[i] = strings.Clone(v)
		}
	}
	o.latest[k] = ts
	return true
}

// newFamilies makes one family per snapshot endpoint: its resource labels,
// then its data point labels (enums are bounded by the schema), then
// error_type on system-metrics. emitMetrics fills values in that order.
func newFamilies(l LabelLimits) families {
	if l.MaxValuesPerLabel <= 0 {
		l.MaxValuesPerLabel = DefaultMaxValuesPerLabel
	}
	if l.MaxLabelSets <= 0 {
		l.MaxLabelSets = DefaultMaxLabelSets
	}
	if l.MaxValueLength <= 0 {
		l.MaxValueLength = DefaultMaxValueLength
	}
	fs := families{other: &otherTimes{
		latest: map[otherSeries]pcommon.Timestamp{},
		// Each family holds at most MaxLabelSets sets, some with "_other",
		// plus the all-"_other" set of each length.
		max: 3 * (l.MaxLabelSets + cardinality.MaxLabels + 1),
	}}
	for _, k := range []Kind{ModelMetrics, BusinessMetrics, SystemMetrics} {
		fs.fam[k] = cardinality.NewFamily(snapshotLabels(k), cardinality.Limits{
			MaxValues: l.MaxValuesPerLabel, MaxSets: l.MaxLabelSets, MaxValueLength: l.MaxValueLength,
		})
	}
	return fs
}

// snapshotLabels lists the labels of a snapshot endpoint's family.
func snapshotLabels(k Kind) []cardinality.Label {
	sp := specs[k]
	var labels []cardinality.Label
	for _, f := range sp.res {
		labels = append(labels, cardinality.Label{Name: f.key, Bounded: f.kind == kindEnum})
	}
	for _, f := range sp.dims {
		labels = append(labels, cardinality.Label{Name: f.key, Bounded: f.kind == kindEnum})
	}
	if k == SystemMetrics {
		labels = append(labels, cardinality.Label{Name: errorTypeLabel})
	}
	return labels
}

// LabelFold counts the label values of one label that a request's accepted
// snapshots had replaced by "_other". Label is cardinality.SetsLabel when
// max_label_sets, not the label's own limit, folded them.
type LabelFold struct {
	Label string
	Count int
}

// foldCounts tallies one request's folds by label index; the last slot is
// the label-set cap.
type foldCounts [cardinality.MaxLabels + 1]int

// bind gives the emitter its endpoint's label bounds.
func (e *emitter) bind(fs *families) {
	e.fam = fs.fam[e.kind]
	e.other = fs.other
}

// claimOther reports whether a point of the "_other" series vals at ts may
// be emitted (see otherTimes).
func (e *emitter) claimOther(vals labelVals, ts pcommon.Timestamp) bool {
	if e.other == nil {
		return true
	}
	return e.other.claim(e.kind, vals, ts)
}

// admit bounds one series' label values in place and records the folds.
func (e *emitter) admit(vals []string) {
	if e.fam == nil {
		return
	}
	folds := e.fam.Admit(vals)
	if !folds.Any() {
		return
	}
	e.itemFolded = true
	for i := range vals {
		if folds.Label(i) {
			e.folds[i]++
		}
	}
	if folds.Sets() {
		e.folds[cardinality.MaxLabels]++
	}
}

// foldList returns the request's folds by label, nil when there were none.
func (e *emitter) foldList() []LabelFold {
	if e.fam == nil {
		return nil
	}
	var out []LabelFold
	labels := e.fam.Labels()
	for i, n := range e.folds {
		if n == 0 {
			continue
		}
		name := cardinality.SetsLabel
		if i < len(labels) {
			name = labels[i].Name
		}
		out = append(out, LabelFold{Label: name, Count: n})
	}
	return out
}

// LabelVersion changes whenever an endpoint admits a label value or set:
// the receiver saves the label state when it moved.
func (d *Decoder) LabelVersion() uint64 {
	var v uint64
	for _, f := range d.labels.fam {
		if f != nil {
			v += f.Version()
		}
	}
	return v
}

// MarshalLabels encodes the admitted label values and sets of every
// snapshot endpoint.
func (d *Decoder) MarshalLabels() (map[string][]byte, error) {
	out := map[string][]byte{}
	for k, f := range d.labels.fam {
		if f == nil {
			continue
		}
		b, err := f.MarshalBinary()
		if err != nil {
			return nil, err
		}
		out[Kind(k).String()] = b
	}
	return out, nil
}

// UnmarshalLabels restores what MarshalLabels saved. An endpoint whose saved
// labels differ from this version's (a label was added) starts empty, and
// so does one whose state is corrupt; both are reported in the error, and
// the other endpoints are restored.
func (d *Decoder) UnmarshalLabels(saved map[string][]byte) error {
	var errs []error
	for k, f := range d.labels.fam {
		if f == nil {
			continue
		}
		b, ok := saved[Kind(k).String()]
		if !ok {
			continue
		}
		if err := f.UnmarshalBinary(b); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", Kind(k), err))
		}
	}
	return errors.Join(errs...)
}
