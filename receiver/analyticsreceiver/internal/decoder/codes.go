package decoder

// Code summarises why an item was rejected, for metric labels (a reason's
// text is unbounded). Each error gets its code where it is raised, so
// rewording a reason never changes a label. The zero Code is CodeOther.
type Code uint8

// The codes, as docs/metrics.md and the receiver's README list them.
const (
	CodeOther        Code = iota // no specific code
	CodeMissing                  // a required field is missing, null or empty
	CodeType                     // a value of the wrong JSON type
	CodeRange                    // a number out of range, not finite or not exact
	CodeEnum                     // a string that is not one of the allowed values
	CodeUnknownField             // a field the schema does not have
	CodeDuplicate                // a field or an entry given twice
	CodeSize                     // a string, array, object or nesting over a limit
	CodeEncoding                 // invalid UTF-8 or a lone surrogate escape
	CodeTime                     // a timestamp that is not epoch ms, or outside the accepted window
	CodeMismatch                 // a field that must equal another does not
	numCodes
)

var codeNames = [numCodes]string{
	CodeOther:        "other",
	CodeMissing:      "missing",
	CodeType:         "type",
	CodeRange:        "range",
	CodeEnum:         "enum",
	CodeUnknownField: "unknown_field",
	CodeDuplicate:    "duplicate",
	CodeSize:         "size",
	CodeEncoding:     "encoding",
	CodeTime:         "time",
	CodeMismatch:     "mismatch",
}

// String returns the code's label value.
func (c Code) String() string {
	if c >= numCodes {
		return codeNames[CodeOther]
	}
	return codeNames[c]
}

// reason is an error's text and its code, for errors whose code depends on
// where they are reported (the scanner's limits: on the value or on its
// free-form field).
type reason struct {
	code Code
	text string
}
