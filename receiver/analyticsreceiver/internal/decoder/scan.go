package decoder

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/pulse-otel/pulse/internal/schema"
)

// The pre-scan: a strict RFC 8259 validator that runs over the whole body
// before fastjson parses anything (doc.go says why it is hand-written). It
// counts array elements, object keys, string bytes, nesting and values as
// it goes and allocates nothing, so an item over a limit (scan_limit.go) is
// rejected without being parsed. It also finds the byte range of each item,
// so fastjson parses one item at a time. Invalid UTF-8 is not a syntax
// error, as for encoding/json.Valid, so the walker reports it per field.

// ErrTooManyValues is the request-level error of a body over max_values
// (the scan's; ErrMalformed, ErrShape, ErrEmpty and ErrTooManyEvents are
// the others).
var ErrTooManyValues = errors.New("too many JSON values in one request")

// maxScanDepth is the deepest any body may nest (fastjson's own limit).
const maxScanDepth = 300

type span struct{ start, end int }

// frame says how the value at one depth is reached: by a key (start, end of
// its raw bytes, quotes excluded) or, in an array, by an index (key < 0).
type frame struct {
	start, end int32
	index      int32
}

// scanner holds one request's scan state; reused through scanners.
type scanner struct {
	b   []byte
	lim *scanLimits

	err    error // the first syntax error; stops the scan
	errOff int   // its offset
	shape  error // the first shape error; the scan goes on to check syntax

	values   int
	tooMany  bool // values past maxValues
	nItems   int
	items    []span
	itemErrs []itemError
	rootErr  *itemError // first limit error outside any item

	form     byte // 'a': array of items, 'w': wrapper object, 'o': one object
	wrapSeen bool
	item     int  // index of the item being scanned; -1 outside items
	base     int  // depth of the item's value
	bad      bool // the current item (or the root) already failed a limit

	free  int // depth of the free-form value being scanned; -1: none
	stack [maxScanDepth + 2]frame
	nodes [maxScanDepth + 2]*tnode // spec node of the container at each depth
}

var scanners = sync.Pool{New: func() any { return new(scanner) }}

func (s *scanner) reset(b []byte, lim *scanLimits) {
	s.b, s.lim = b, lim
	s.err, s.errOff, s.shape = nil, 0, nil
	s.values, s.tooMany, s.nItems = 0, false, 0
	s.items = s.items[:0]
	s.itemErrs = s.itemErrs[:0]
	s.rootErr = nil
	s.form, s.wrapSeen, s.item, s.base, s.bad = 0, false, -1, 0, false
	s.free = -1
	s.nodes[0] = lim.tree
}

// scan validates the body and splits it into items. A non-nil error means
// the request is unusable.
func (s *scanner) scan() error {
	i := s.ws(0)
	if i == len(s.b) {
		return fmt.Errorf("%w: empty body", ErrMalformed)
	}
	switch s.b[i] {
	case '[':
		s.form = 'a'
	case '{':
		s.form = 'o'
	}
	i = s.value(i, 0)
	if s.err == nil {
		if i = s.ws(i); i < len(s.b) {
			s.syntax(i, "data after the top-level value")
		}
	}
	switch {
	case s.err != nil:
		return s.err
	case s.shape != nil:
		return s.shape
	case s.form == 0:
		return fmt.Errorf("%w: body must be a JSON array, an object {%q: [...]}, or one object", ErrShape, s.lim.wrapper)
	case s.tooMany:
		return fmt.Errorf("%w: more than %d values (max_values_per_request)", ErrTooManyValues, s.lim.maxValues)
	case s.form == 'o':
		// One object is one item.
		s.items = append(s.items[:0], span{0, len(s.b)})
		s.nItems = 1
		if s.rootErr != nil {
			s.itemErrs = append(s.itemErrs[:0], itemError{0, s.rootErr.err, s.rootErr.code})
		}
	case s.rootErr != nil:
		return fmt.Errorf("%w: outside %q, %s %s", ErrShape, s.lim.wrapper, s.rootErr.err.Field, s.rootErr.err.Reason)
	}
	if s.nItems == 0 {
		return ErrEmpty
	}
	if s.nItems > s.lim.maxItems {
		return fmt.Errorf("%w: %d events, the limit is %d", ErrTooManyEvents, s.nItems, s.lim.maxItems)
	}
	return nil
}

// rejected reports whether the scan rejected item i (a linear search: items
// rejected by the scan are few, and only then is there anything to search).
func (s *scanner) rejected(i int) bool {
	for _, e := range s.itemErrs {
		if e.index == i {
			return true
		}
	}
	return false
}

// syntax records a syntax error at byte i. Offsets count like
// encoding/json's: bytes read up to and including the offending one.
func (s *scanner) syntax(i int, what string) {
	if s.err != nil {
		return
	}
	off := i + 1
	if i >= len(s.b) {
		off = len(s.b)
		what = "unexpected end of JSON input (" + what + ")"
	}
	s.errOff = off
	s.err = fmt.Errorf("%w at byte offset %d: %s", ErrMalformed, off, what)
}

func (s *scanner) ws(i int) int {
	if i < len(s.b) && s.b[i] > ' ' {
		return i
	}
	for i < len(s.b) {
		switch s.b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// count adds one value to the budget, unless it belongs to an item that is
// already rejected (it will not be parsed).
func (s *scanner) count() {
	if s.bad {
		return
	}
	s.values++
	if s.values > s.lim.maxValues {
		s.tooMany = true
	}
}

// value scans the value at b[i:] whose depth is d (the number of containers
// around it) and returns the offset after it.
func (s *scanner) value(i, d int) int {
	if i >= len(s.b) {
		s.syntax(i, "expected a value")
		return i
	}
	s.count()
	switch c := s.b[i]; c {
	case '{':
		return s.object(i, d)
	case '[':
		return s.array(i, d)
	case '"':
		j, n, lone := s.str(i)
		if s.err == nil {
			if n > s.lim.maxString {
				s.limit(d, fmt.Sprintf("<string of %d bytes>", n),
					reason{CodeSize, "longer than " + itoa(s.lim.maxString) + " bytes"},
					reason{CodeSize, "holds a string longer than " + itoa(s.lim.maxString) + " bytes"})
			} else if lone {
				s.limit(d, "",
					reason{CodeEncoding, schema.ReasonLoneSurrogate},
					reason{CodeEncoding, "holds a string with " + strings.TrimPrefix(schema.ReasonLoneSurrogate, "holds ")})
			}
		}
		return j
	case 't':
		return s.lit(i, "true")
	case 'f':
		return s.lit(i, "false")
	case 'n':
		return s.lit(i, "null")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return s.number(i)
		}
		s.syntax(i, "invalid character at the start of a value")
		return i
	}
}

// enter checks the depth of a container about to be opened at depth d.
func (s *scanner) enter(d int) bool {
	if d+1 > maxScanDepth {
		if s.err == nil {
			s.err = fmt.Errorf("%w: nested deeper than %d levels", ErrMalformed, maxScanDepth)
		}
		return false
	}
	if s.item >= 0 || s.form == 'o' {
		if rel := d - s.base; rel >= s.lim.maxDepth+specDepth {
			s.limit(d, "",
				reason{CodeSize, "nested deeper than " + itoa(s.lim.maxDepth+specDepth) + " levels"},
				reason{CodeSize, "nested deeper than " + itoa(s.lim.maxDepth) + " levels"})
		}
	}
	return true
}

func (s *scanner) object(i, d int) int {
	if !s.enter(d) {
		return i
	}
	b := s.b
	i = s.ws(i + 1)
	if i < len(b) && b[i] == '}' {
		return i + 1
	}
	keys := 0
	for {
		if i >= len(b) || b[i] != '"' {
			s.syntax(i, "expected a string key")
			return i
		}
		ks := i + 1
		j, n, lone := s.str(i)
		if s.err != nil {
			return j
		}
		s.stack[d+1] = frame{start: int32(ks), end: int32(j - 1), index: -1}
		if s.free > d {
			s.free = -1 // a sibling of the free-form field
		}
		if s.free < 0 {
			t := s.nodes[d].child(b[ks : j-1])
			s.nodes[d+1] = t
			if t != nil && t.free {
				s.free = d + 1
			}
		}
		keys++
		// Schema objects have fixed fields (a key past them is an unknown
		// field), so only free-form objects are bounded per object.
		inFree := s.free >= 0 && d >= s.free
		switch {
		case inFree && keys == s.lim.maxArray+1:
			s.limit(d, "<object>",
				reason{CodeSize, "more than " + itoa(s.lim.maxArray) + " fields"},
				reason{CodeSize, "holds an object of more than " + itoa(s.lim.maxArray) + " fields"})
		case inFree && n > s.lim.maxString:
			s.limit(d, "",
				reason{CodeSize, "field name is too long"},
				reason{CodeEncoding, "holds a field name that is too long or not valid UTF-8"})
		case lone:
			s.limit(d, "",
				reason{CodeEncoding, "field name " + schema.ReasonLoneSurrogate},
				reason{CodeEncoding, "holds a field name with " + strings.TrimPrefix(schema.ReasonLoneSurrogate, "holds ")})
		}
		i = s.ws(j)
		if i >= len(b) || b[i] != ':' {
			s.syntax(i, "expected a colon after a key")
			return i
		}
		i = s.ws(i + 1)
		wrapper := d == 0 && s.form != 'a' && string(b[ks:j-1]) == s.lim.wrapper
		if wrapper {
			switch {
			case s.shape != nil:
			case s.wrapSeen:
				s.shape = fmt.Errorf("%w: %q appears twice", ErrShape, s.lim.wrapper)
			case i >= len(b) || b[i] != '[':
				s.shape = fmt.Errorf("%w: %q must be an array", ErrShape, s.lim.wrapper)
			default:
				s.form = 'w'
			}
			s.wrapSeen = true
		}
		i = s.value(i, d+1)
		if s.err != nil {
			return i
		}
		i = s.ws(i)
		if i < len(b) && b[i] == ',' {
			i = s.ws(i + 1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			return i + 1
		}
		s.syntax(i, "expected a comma or a closing brace")
		return i
	}
}

func (s *scanner) array(i, d int) int {
	if !s.enter(d) {
		return i
	}
	b := s.b
	// The elements of the top-level array, or of the wrapper, are items.
	items := d == 0 && s.form == 'a' || d == 1 && s.form == 'w'
	i = s.ws(i + 1)
	if i < len(b) && b[i] == ']' {
		return i + 1
	}
	for n := 0; ; n++ {
		s.stack[d+1] = frame{index: int32(n), start: -1}
		if s.free < 0 {
			if t := s.nodes[d]; t != nil {
				s.nodes[d+1] = t.elem
			} else {
				s.nodes[d+1] = nil
			}
		}
		if items {
			s.nItems++
			s.nodes[d+1], s.free = s.lim.tree, -1
			if n < s.lim.maxItems {
				s.item, s.base, s.bad = n, d+1, false
			} else {
				// Past the limit: the request fails; do not count.
				s.item, s.base, s.bad = -1, d+1, true
			}
		} else if n == s.lim.maxArray {
			s.limit(d, "<array>",
				reason{CodeSize, "more than " + itoa(s.lim.maxArray) + " elements"},
				reason{CodeSize, "holds an array of more than " + itoa(s.lim.maxArray) + " elements"})
		}
		start := i
		i = s.value(i, d+1)
		if s.err != nil {
			return i
		}
		if items && s.item >= 0 {
			s.items = append(s.items, span{start, i})
		}
		i = s.ws(i)
		if i < len(b) && b[i] == ',' {
			i = s.ws(i + 1)
			continue
		}
		if items {
			s.item, s.base, s.bad = -1, 0, false
		}
		if i < len(b) && b[i] == ']' {
			return i + 1
		}
		s.syntax(i, "expected a comma or a closing bracket")
		return i
	}
}
