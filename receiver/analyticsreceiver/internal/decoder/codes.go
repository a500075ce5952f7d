package decoder

import "strings"

// Reason codes: a small fixed vocabulary that summarises a FieldError's
// reason, for metric labels (the reason text itself is unbounded).
const (
	CodeMissing      = "missing"
	CodeType         = "type"
	CodeRange        = "range"
	CodeEnum         = "enum"
	CodeUnknownField = "unknown_field"
	CodeDuplicate    = "duplicate"
	CodeSize         = "size"
	CodeEncoding     = "encoding"
	CodeTime         = "time"
	CodeMismatch     = "mismatch"
	CodeOther        = "other"
)

// reasonCodes maps the start of each reason the decoder writes to its code,
// most specific first.
var reasonCodes = []struct{ prefix, code string }{
	{"required field is", CodeMissing},
	{"must be one of", CodeEnum},
	{"must be epoch milliseconds", CodeTime},
	{"must be a positive epoch time", CodeTime},
	{"looks like seconds", CodeTime},
	{"is more than", CodeTime},
	{"is older than", CodeTime},
	{"must not be before", CodeTime},
	{"must equal", CodeMismatch},
	{"must be between", CodeRange},
	{"must be at least", CodeRange},
	{"must not be negative", CodeRange},
	{"must be an integer", CodeRange},
	{"must be an exact integer", CodeRange},
	{"not a finite number", CodeRange},
	{"holds a number", CodeRange},
	{"must not be empty", CodeMissing},
	{"must be ", CodeType},
	{"unknown field", CodeUnknownField},
	{"duplicate", CodeDuplicate},
	{"longer than", CodeSize},
	{"more than", CodeSize},
	{"nested deeper", CodeSize},
	{"holds a string longer", CodeSize},
	{"holds an array", CodeSize},
	{"holds an object", CodeSize},
	{"not valid UTF-8", CodeEncoding},
	{"holds a string that is not valid UTF-8", CodeEncoding},
	{"holds a field name with", CodeEncoding},
	{"holds a field name", CodeEncoding},
	{"holds a string with", CodeEncoding},
	{`holds a \u escape`, CodeEncoding},
	{"field name holds", CodeEncoding},
	{"field name is too long", CodeSize},
}

// ReasonCode returns the code of a FieldError reason.
func ReasonCode(reason string) string {
	for _, rc := range reasonCodes {
		if strings.HasPrefix(reason, rc.prefix) {
			return rc.code
		}
	}
	return CodeOther
}
