package seeddef

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Decoder decodes one definition field by field, collecting one
// *FieldError per problem, so that every error names its field.
type Decoder struct {
	File string
	// Lines, when not nil, receives the line of every field decoded, by
	// path (condition.metric, notifications[0].recipients[1]), so that the
	// errors of a later validation can name it.
	Lines map[string]int

	owners []Owner
	errs   []error
}

// Field decodes the value n of the field at path.
type Field func(n *yaml.Node, path string)

// Errs returns the problems found so far.
func (d *Decoder) Errs() []error { return d.errs }

// In runs decode with the errors it reports naming the definition, or the
// part of one, kind id after the owners named so far.
func (d *Decoder) In(kind, id string, decode func()) {
	prev := d.owners
	// Clipped, so that the owners of errors already reported never change.
	d.owners = append(slices.Clip(prev), Owner{Kind: kind, ID: id})
	defer func() { d.owners = prev }()
	decode()
}

// Fail reports a problem with the field at path, on the line of n (if
// any).
func (d *Decoder) Fail(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.errs = append(d.errs, &FieldError{File: d.File, Line: line, Owners: d.owners, Field: path, Msg: fmt.Sprintf(format, args...)})
}

// Fields decodes the mapping n, whose keys' paths start with path
// ("" for a definition's own fields, "condition." for those of its
// condition): known maps each key to its decoder; ignored keys are accepted
// and dropped; required keys must be present.
func (d *Decoder) Fields(n *yaml.Node, path string, known map[string]Field, ignored, required []string) {
	if n.Kind != yaml.MappingNode {
		d.Fail(n, strings.TrimSuffix(path, "."), "must be a mapping, got %s", KindName(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := path + k.Value
		if seen[k.Value] {
			d.Fail(k, field, "given twice")
			continue
		}
		seen[k.Value] = true
		if d.Lines != nil {
			d.Lines[field] = k.Line
		}
		if f, ok := known[k.Value]; ok {
			f(v, field)
			continue
		}
		if slices.Contains(ignored, k.Value) {
			continue
		}
		names := make([]string, 0, len(known))
		for name := range known {
			names = append(names, name)
		}
		sort.Strings(names)
		d.Fail(k, field, "unknown field; known fields: %s", strings.Join(names, ", "))
	}
	for _, r := range required {
		if !seen[r] {
			d.Fail(n, path+r, "missing")
		}
	}
}

// String decodes a YAML string: quoted, or plain text that is not a
// number, a boolean or null.
func (d *Decoder) String(dst *string) Field {
	return func(n *yaml.Node, path string) {
		if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
			d.Fail(n, path, "must be a string, got %s", KindName(n))
			return
		}
		*dst = n.Value
	}
}

// Text decodes any scalar but null as it is written: 42 is "42".
func (d *Decoder) Text(dst *string) Field {
	return func(n *yaml.Node, path string) {
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			d.Fail(n, path, "must be a string, got %s", KindName(n))
			return
		}
		*dst = n.Value
	}
}

// Strings decodes a list whose items elem decodes (String or Text).
func (d *Decoder) Strings(dst *[]string, elem func(*string) Field) Field {
	return func(n *yaml.Node, path string) {
		if n.Kind != yaml.SequenceNode {
			d.Fail(n, path, "must be a list of strings, got %s", KindName(n))
			return
		}
		out := make([]string, 0, len(n.Content))
		for i, c := range n.Content {
			var s string
			f := fmt.Sprintf("%s[%d]", path, i)
			if d.Lines != nil {
				d.Lines[f] = c.Line
			}
			elem(&s)(c, f)
			out = append(out, s)
		}
		*dst = out
	}
}

// Bool decodes true or false.
func (d *Decoder) Bool(dst *bool) Field {
	return func(n *yaml.Node, path string) {
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.Fail(n, path, "must be true or false, got %s", KindName(n))
			return
		}
		// Decode fails only for other text tagged !!bool explicitly
		// (`!!bool maybe`): an error, not a silent false.
		if err := n.Decode(dst); err != nil {
			d.Fail(n, path, "must be true or false, got %s", KindName(n))
		}
	}
}

// Number decodes a finite number.
func (d *Decoder) Number(dst *float64) Field {
	return func(n *yaml.Node, path string) {
		var f float64
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&f) != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.Fail(n, path, "must be a number, got %s", KindName(n))
			return
		}
		*dst = f
	}
}

// Int decodes a whole number (2 or 2.0).
func (d *Decoder) Int(dst *int) Field {
	return func(n *yaml.Node, path string) {
		if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float") {
			if f, err := strconv.ParseFloat(n.Value, 64); err == nil && f == float64(int(f)) {
				*dst = int(f)
				return
			}
		}
		d.Fail(n, path, "must be a whole number, got %s", KindName(n))
	}
}

// Count decodes a whole number of unit ("minutes", "days") from 1 to max;
// limit, when set, says in errors what max is (" (a year)").
func (d *Decoder) Count(dst *int, unit string, maxCount int, limit string) Field {
	return func(n *yaml.Node, path string) {
		var f float64
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&f) != nil {
			d.Fail(n, path, "must be a number of %s, got %s", unit, KindName(n))
			return
		}
		if f < 1 || f != math.Trunc(f) || f > float64(maxCount) {
			d.Fail(n, path, "must be a whole number of %s from 1 to %d%s, got %s", unit, maxCount, limit, n.Value)
			return
		}
		*dst = int(f)
	}
}

// Millis decodes a whole number of milliseconds since 1970 (the seed's
// createdAt and updatedAt).
func (d *Decoder) Millis(dst *int64) Field {
	return func(n *yaml.Node, path string) {
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(dst) != nil {
			d.Fail(n, path, "must be a whole number (milliseconds since 1970), got %s", KindName(n))
		}
	}
}

// KindName says what n is, for errors: a mapping, a list, null, or the
// scalar itself, quoted.
func KindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an alias"
}

// ID returns the value of key in n when n is a mapping and the value a
// scalar, and "" otherwise: a definition's ID, for its errors, before the
// definition is decoded.
func ID(n *yaml.Node, key string) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	if v := mapValue(n, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
