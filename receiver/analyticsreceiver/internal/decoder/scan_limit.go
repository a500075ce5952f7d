// The scan's limits: what an item may hold, and how an error over a limit
// names its field (the spec's tree down to its free-form fields).

package decoder

import "strconv"

// specDepth is how deep the schemas nest above a free-form value: an item
// (1), an object such as behavior (2), one inside it (3) and so on. An item
// may nest MaxDepth+specDepth levels before the scan rejects it; the walker
// applies the exact limit per field.
const specDepth = 6

type scanLimits struct {
	maxItems, maxArray, maxString, maxDepth, maxValues int
	wrapper                                            string
	// tree is the spec's object structure down to its free-form (kindAny)
	// fields, where errors are reported on the field itself.
	tree *tnode
	// names holds the spec's field names, which errors may show as they
	// are (any other key is shown only when it is a plain token).
	names map[string]bool
}

type itemError struct {
	index int
	err   FieldError
	code  Code
}

// tnode is one object (or array element) of a spec on the way to a
// free-form field.
type tnode struct {
	kids  []*tnode // fields that are objects, arrays of objects or free-form
	names []string // the kids' names
	name  string
	free  bool   // a free-form field
	elem  *tnode // an array of objects: its elements
}

func (t *tnode) child(key []byte) *tnode {
	if t == nil {
		return nil
	}
	for i, name := range t.names {
		if len(name) == len(key) && name == string(key) {
			return t.kids[i]
		}
	}
	return nil
}

// limit records that the value at depth d (or the container at depth d
// about to take one more member) is over a limit. Inside a free-form field
// the error is the field's, as the walker reports it (free, no value);
// elsewhere it names the exact path (fixed).
func (s *scanner) limit(d int, value string, fixed, free reason) {
	if s.bad {
		return
	}
	s.bad = true
	base := s.base
	if s.item < 0 && s.form != 'o' {
		base = 0
	}
	path, inFree := s.path(base, d)
	ie := itemError{index: s.item, err: FieldError{Field: path, Value: value, Reason: fixed.text}, code: fixed.code}
	if inFree {
		ie.err.Value, ie.err.Reason, ie.code = "", free.text, free.code
	}
	if s.item >= 0 {
		s.itemErrs = append(s.itemErrs, ie)
		return
	}
	if s.rootErr == nil {
		s.rootErr = &ie
	}
}

// path renders the path of the value at depth d below the item at depth
// base, as the walker names fields: keys joined by dots, array elements by
// index. A key that is neither a schema field name nor a plain token is
// described by its length. Inside a free-form field it stops at the field,
// whose errors are reported on the field itself.
func (s *scanner) path(base, d int) (string, bool) {
	free := s.free >= 0 && d >= s.free
	if free {
		d = s.free
	}
	var disp []byte
	for k := base + 1; k <= d; k++ {
		f := s.stack[k]
		if f.start < 0 {
			disp = append(append(append(disp, '['), strconv.Itoa(int(f.index))...), ']')
			continue
		}
		key := s.b[f.start:f.end]
		if len(disp) > 0 {
			disp = append(disp, '.')
		}
		if isToken(key) || s.lim.names[string(key)] {
			disp = append(disp, key...)
		} else {
			disp = append(disp, "<field name of "+itoa(len(key))+" bytes>"...)
		}
	}
	return string(disp), free
}

// specTree builds the scan's view of a spec: the objects on the way to
// each free-form field, and every field name.
func specTree(sp *spec) (*tnode, map[string]bool) {
	names := map[string]bool{sp.wrapper: true}
	var build func(o *object) *tnode
	build = func(o *object) *tnode {
		t := &tnode{}
		for i := range o.fields {
			f := &o.fields[i]
			names[f.name] = true
			switch f.kind {
			case kindAny:
				t.kids = append(t.kids, &tnode{name: f.name, free: true})
			case kindObject:
				k := build(f.obj)
				k.name = f.name
				t.kids = append(t.kids, k)
			case kindObjects:
				t.kids = append(t.kids, &tnode{name: f.name, elem: build(f.obj)})
			}
		}
		for _, k := range t.kids {
			t.names = append(t.names, k.name)
		}
		return t
	}
	return build(sp.root), names
}
