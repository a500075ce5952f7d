// Package seeddef decodes definitions in the seed's shapes (alert rules,
// dashboards, and next retention policies and data-quality reports) from
// YAML or JSON files, with errors that name the file, the line, the
// definition and the field.
//
// A file holds one definition (a mapping), a list of them, or a mapping
// whose only key is the kind's plural ("rules", "dashboards") holding the
// list. JSON is read as YAML, so a JSON file's errors carry lines too.
//
// Decoding walks the yaml.Node tree field by field instead of unmarshalling
// into structs: the yaml and json decoders stop at the first problem and do
// not say which field of which definition it is in, while an author wants
// every problem of a file at once, each with its place ("rules.yaml:5: rule
// "r1": field condition.metric: ..."). A Decoder reports unknown fields with
// the known ones, fields given twice, missing required fields and values of
// the wrong type; the caller's own validation runs on the decoded values and
// reports through the same FieldError.
package seeddef // import "github.com/pulse-otel/pulse/internal/seeddef"
