// The data source of an item (its platform) and the schema field of its
// first error: the bounded labels of the receiver's accepted and rejected
// counters, from which accuracy per data source is computed.

package decoder

import (
	"strings"

	"github.com/pulse-otel/pulse/internal/schema"
)

// PlatformUnknown is the platform index of an item whose endpoint has no
// platform field, or whose platform is missing or invalid.
var PlatformUnknown = len(schema.Platforms)

// NumPlatforms is the number of platform labels: schema.Platforms and
// "unknown".
var NumPlatforms = len(schema.Platforms) + 1

// FieldOther is the field label of an error on no schema field: an
// unknown key, the item itself, a request-level limit.
const FieldOther = "_other"

// PlatformName returns the label of platform index i: a member of
// schema.Platforms, or "unknown".
func PlatformName(i int) string {
	if i >= 0 && i < len(schema.Platforms) {
		return schema.Platforms[i]
	}
	return "unknown"
}

// Platform returns the label of the rejected item's platform: its valid
// platform field, else "unknown".
func (r Rejection) Platform() string {
	if r.platform == 0 {
		return PlatformName(PlatformUnknown)
	}
	return PlatformName(r.platform - 1)
}

// Field returns the label of the first error's field: its schema path
// without array indexes ("items[].name"), or FieldOther when the path is
// not one of the schema's fields. Never client text.
func (r Rejection) Field() string {
	if r.field == "" {
		return FieldOther
	}
	return r.field
}

// platformOf returns the walked item's platform index, or PlatformUnknown.
func (w *walker) platformOf() int {
	if w.sp.platform < 0 || w.vals[w.sp.platform] == nil {
		return PlatformUnknown
	}
	return int(w.nums[w.sp.platform])
}

// rejectedPlatform is platformOf as Rejection.platform stores it.
func (w *walker) rejectedPlatform() int {
	if p := w.platformOf(); p != PlatformUnknown {
		return p + 1
	}
	return 0
}

// fieldLabel maps an error path to its schema field, "" when it is none.
func (s *spec) fieldLabel(path string) string {
	if path == "" {
		return ""
	}
	p := stripIndexes(path)
	if _, ok := s.paths[p]; ok {
		return p
	}
	// An element of an array ("tags[2]"): the array's field.
	if p, ok := strings.CutSuffix(p, "[]"); ok {
		if _, ok := s.paths[p]; ok {
			return p
		}
	}
	return ""
}

// stripIndexes replaces every "[<digits>]" of path by "[]".
func stripIndexes(path string) string {
	b := []byte(nil)
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c == '[' {
			j := i + 1
			for j < len(path) && path[j] >= '0' && path[j] <= '9' {
				j++
			}
			if j > i+1 && j < len(path) && path[j] == ']' {
				if b == nil {
					b = append(make([]byte, 0, len(path)), path[:i]...)
				}
				b = append(b, '[', ']')
				i = j
				continue
			}
		}
		if b != nil {
			b = append(b, c)
		}
	}
	if b == nil {
		return path
	}
	return string(b)
}
