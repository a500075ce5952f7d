package schema

// JSON text rules for Pulse's JSON APIs, so that one JSON text names one
// user everywhere: the id the forget API forgets must be the id the
// analytics receiver takes from an event. Go's encoding/json and fastjson
// disagree on both points below, so neither decoder's default is the rule.
//
//   - A key twice in one object is an error ("duplicate field"), even when
//     the copies are spelled differently ("userId" and "user\u0049d").
//     encoding/json keeps the last copy, fastjson the first. The analytics
//     receiver's decoder enforces this in its own object walk.
//   - A \u escape of half a UTF-16 surrogate pair without its other half
//     ("\ud800", "\udc00", "\ud800\u0041") is an error (LoneSurrogate).
//     encoding/json turns it into U+FFFD; fastjson keeps the six characters
//     of the escape, or turns a high surrogate and the escape after it into
//     one U+FFFD.

// ReasonDuplicateField is the reason given for a key seen twice in one object.
const ReasonDuplicateField = "duplicate field"

// ReasonLoneSurrogate is the reason given for a string holding a lone
// surrogate escape.
const ReasonLoneSurrogate = `holds a \u escape of a lone UTF-16 surrogate (half of a pair)`

// LoneSurrogate returns the byte offset of the first \u escape in the JSON
// text b that is half of a UTF-16 surrogate pair without its other half, or
// -1 when there is none. b is a whole document or a part of one (a string
// literal with its quotes); it must be valid JSON, where a backslash only
// occurs inside strings, so strings need not be tracked.
func LoneSurrogate(b []byte) int {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if i+1 >= len(b) || b[i+1] != 'u' {
			i++ // a two-byte escape such as \\ or \"
			continue
		}
		r, ok := Hex4(b, i+2)
		switch {
		case !ok:
			return i
		case r >= 0xdc00 && r <= 0xdfff:
			return i // a low surrogate first
		case r >= 0xd800 && r <= 0xdbff:
			lo, ok := -1, false
			if i+7 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
				lo, ok = Hex4(b, i+8)
			}
			if !ok || lo < 0xdc00 || lo > 0xdfff {
				return i
			}
			i += 11 // the pair
		default:
			i += 5
		}
	}
	return -1
}

// Hex4 reads the four hex digits of a \u escape at b[i:], and says
// whether there were four.
func Hex4(b []byte, i int) (int, bool) {
	if i < 0 || i+4 > len(b) {
		return 0, false
	}
	r := 0
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | int(c)
	}
	return r, true
}
