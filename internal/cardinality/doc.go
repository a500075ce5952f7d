// Package cardinality bounds the label values a client can make a component
// emit: the first distinct values of each label are admitted, later new
// values are folded into Other, and a cap on the distinct label sets of a
// family bounds the product of the labels. It is the same rule as the
// analytics_metrics connector's max_values_per_label and max_series, so
// that an operator reads one overflow marker everywhere.
//
// # Use
//
//	labels := []cardinality.Label{{Name: "metric_name"}, {Name: "category", Bounded: true}}
//	f := cardinality.NewFamily(labels, cardinality.Limits{MaxValues: 1000, MaxSets: 2000, MaxValueLength: 256})
//	vals := []string{name, category}
//	folds := f.Admit(vals)            // vals now holds what to emit
//	state, err := f.MarshalBinary()   // persist; on start:
//	err = f.UnmarshalBinary(state)    // the same values stay admitted
//
// # Design
//
// A Family is a fixed list of labels (at most MaxLabels). Each label keeps
// its admitted values in admission order with a small integer id; a label
// set is the array of those ids, so the set of label sets costs a fixed
// 36 bytes per entry whatever the values' length, and comparing two sets is
// one array comparison. Bounded labels (a fixed vocabulary such as an enum)
// are never folded by the value limit but still count in the label sets.
//
// Admit folds in two steps, as the connector does: a value that is not
// admitted when its label is full, or that is longer than MaxValueLength,
// becomes Other (a fold of that label);
// then, if the resulting label set is new and the family already holds its
// cap of label sets, every label of the set becomes Other (a fold of the
// set, counted under the label name SetsLabel). The all-Other set is never stored, so it is always
// available as the family's overflow series.
//
// The hot path, a label set already admitted, takes a read lock, looks each
// value up in a map and the set in another, and allocates nothing.
//
// Not done on purpose: no eviction. An admitted value stays admitted for the
// life of the state (and across restarts when the state is persisted), so a
// label never flips between a value and Other, and the bound holds against
// a client that keeps sending new values. Operators who retire values raise
// the limits or clear the saved state.
package cardinality
