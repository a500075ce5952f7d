// The walker: validation of one item against its spec, field by field, and
// the rules of what an error may show of a value.

package decoder

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// walker validates one event and remembers its valid values by slot.
type walker struct {
	opts  *Options
	sp    *spec
	vals  []*fastjson.Value
	nums  []float64 // parsed numbers, times, enum indexes and booleans by slot
	errs  []FieldError
	codes []Code // the code of each of errs
	now   time.Time
	elem  int // index inside an array of objects, for error paths

	full bool // recommendations: a full record, not a later response

	// order remembers, per object of the spec, which field the n-th key of
	// the last such object was (index+1; 0: unknown). The items of one
	// request come from one client and keep their key order, so the name
	// check usually replaces the map lookup.
	order [][64]int8
}

// fail records an error on path with its code and reason.
func (w *walker) fail(path string, f *field, v *fastjson.Value, code Code, reason string) {
	if w.elem >= 0 {
		path = strings.Replace(path, "[]", "["+strconv.Itoa(w.elem)+"]", 1)
	}
	w.errs = append(w.errs, FieldError{Field: path, Value: describe(f, v), Reason: reason})
	w.codes = append(w.codes, code)
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
		w.fail("", nil, v, CodeType, "must be a JSON object")
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
			w.fail(name, nil, nil, CodeUnknownField, "unknown field")
			return
		}
		f := &o.fields[i]
		bit := uint64(1) << i
		if seen&bit != 0 {
			w.fail(f.path, f, nil, CodeDuplicate, "duplicate field")
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
			w.fail(f.path, f, nil, CodeMissing, "required field is missing")
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
	w.fail(f.path, f, v, CodeType, "must be "+want+", not "+typeName(v.Type()))
}

// str validates a string value and returns its bytes.
func (w *walker) str(f *field, v *fastjson.Value, path string) ([]byte, bool) {
	if v.Type() != fastjson.TypeString {
		w.fail(path, f, v, CodeType, "must be a string, not "+typeName(v.Type()))
		return nil, false
	}
	b := v.GetStringBytes()
	switch {
	case len(b) > w.opts.MaxStringLength:
		w.fail(path, f, v, CodeSize, "longer than "+strconv.Itoa(w.opts.MaxStringLength)+" bytes")
	case !utf8.Valid(b):
		w.fail(path, f, v, CodeEncoding, "not valid UTF-8")
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
		w.fail(f.path, f, v, CodeRange, "not a finite number")
		return 0, false
	}
	if x < f.min || x > f.max {
		w.fail(f.path, f, v, CodeRange, rangeReason(f.min, f.max))
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
			w.fail(f.path, f, v, CodeMissing, "required field is null")
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
			w.fail(f.path, f, v, CodeMissing, "must not be empty")
			return
		}
		if f.maxLen > 0 && len(b) > f.maxLen {
			w.fail(f.path, f, v, CodeSize, "longer than "+strconv.Itoa(f.maxLen)+" bytes (the longest user id Pulse accepts)")
			return
		}
	case kindEnum:
		b, ok := w.str(f, v, f.path)
		if !ok {
			return
		}
		i := enumIndex(f.enum, b)
		if i < 0 {
			w.fail(f.path, f, v, CodeEnum, "must be one of "+strings.Join(f.enum, ", "))
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
				w.fail(f.path, f, v, CodeRange, reasonInexact)
				return
			}
		}
		var ok bool
		if x, ok = w.number(f, v); !ok {
			return
		}
		if x != math.Trunc(x) {
			w.fail(f.path, f, v, CodeRange, "must be an integer")
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
			w.fail(f.path, f, v, CodeTime, "must be epoch milliseconds (a number), not "+typeName(v.Type()))
			return
		}
		var err error
		x, err = v.Float64()
		switch {
		case err != nil || math.IsNaN(x) || x <= 0 || x > maxMS:
			w.fail(f.path, f, v, CodeTime, "must be a positive epoch time in milliseconds")
			return
		case x < 1e11:
			w.fail(f.path, f, v, CodeTime, "looks like seconds or a date before 1973; timestamps are epoch milliseconds")
			return
		}
	case kindStrings:
		if v.Type() != fastjson.TypeArray {
			w.wrongType(f, v, "an array of strings")
			return
		}
		arr, _ := v.Array()
		if len(arr) > w.opts.MaxArrayLength {
			w.fail(f.path, f, v, CodeSize, "more than "+strconv.Itoa(w.opts.MaxArrayLength)+" elements")
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
		if r := w.checkAny(v, 1); r.text != "" {
			w.fail(f.path, f, nil, r.code, r.text)
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
			w.fail(f.path, f, v, CodeSize, "more than "+strconv.Itoa(w.opts.MaxArrayLength)+" elements")
			return
		}
		n := len(w.errs)
		for i, el := range arr {
			w.elem = i
			if el.Type() != fastjson.TypeObject {
				w.fail(f.path+"[]", f, el, CodeType, "must be an object, not "+typeName(el.Type()))
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

// checkAny validates a free-form value: depth, sizes and UTF-8. A zero
// reason means the value is valid.
func (w *walker) checkAny(v *fastjson.Value, depth int) reason {
	if depth > w.opts.MaxDepth {
		return reason{CodeSize, "nested deeper than " + strconv.Itoa(w.opts.MaxDepth) + " levels"}
	}
	switch v.Type() {
	case fastjson.TypeString:
		b := v.GetStringBytes()
		if len(b) > w.opts.MaxStringLength {
			return reason{CodeSize, "holds a string longer than " + strconv.Itoa(w.opts.MaxStringLength) + " bytes"}
		}
		if !utf8.Valid(b) {
			return reason{CodeEncoding, "holds a string that is not valid UTF-8"}
		}
	case fastjson.TypeNumber:
		if x, err := v.Float64(); err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return reason{CodeRange, "holds a number out of range"}
		}
	case fastjson.TypeArray:
		arr, _ := v.Array()
		if len(arr) > w.opts.MaxArrayLength {
			return reason{CodeSize, "holds an array of more than " + strconv.Itoa(w.opts.MaxArrayLength) + " elements"}
		}
		for _, el := range arr {
			if r := w.checkAny(el, depth+1); r.text != "" {
				return r
			}
		}
	case fastjson.TypeObject:
		o, _ := v.Object()
		if o.Len() > w.opts.MaxArrayLength {
			return reason{CodeSize, "holds an object of more than " + strconv.Itoa(w.opts.MaxArrayLength) + " fields"}
		}
		var r reason
		o.Visit(func(k []byte, fv *fastjson.Value) {
			if r.text != "" {
				return
			}
			if len(k) > w.opts.MaxStringLength || !utf8.Valid(k) {
				r = reason{CodeEncoding, "holds a field name that is too long or not valid UTF-8"}
				return
			}
			r = w.checkAny(fv, depth+1)
		})
		return r
	}
	return reason{}
}
