package seeddef

import (
	"fmt"
	"strings"
)

// FieldError is one problem with a definition: where it is and what is
// wrong. Its text is "file:line: rule "id": field path: msg", leaving out
// what is unknown (a line of 0, owners without an ID, an empty field).
type FieldError struct {
	File string
	Line int
	// Owners are the definition the field is in and the part of it, outermost
	// first: rule "r1"; dashboard "d1" then widget "w".
	Owners []Owner
	Field  string // path in the definition: condition.metric, layout.widgets[2].config.kpi
	Msg    string
}

// Owner is a definition, or a part of one, that a field belongs to.
type Owner struct {
	Kind string // rule, dashboard, widget
	ID   string // empty when it has none (yet): the error then leaves it out
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	for _, o := range e.Owners {
		if o.ID != "" {
			fmt.Fprintf(&b, ": %s %q", o.Kind, o.ID)
		}
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %s", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}
