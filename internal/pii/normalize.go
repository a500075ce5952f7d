package pii

import (
	"sync"
	"unsafe"
)

// Encoded and look-alike text: apps send personal data percent-encoded in
// URLs and query strings ("jane%40example.com", doubly "jane%2540..."), and
// typed with full-width forms ("４１１１ …", "ｊａｎｅ＠…") or non-breaking
// spaces between digit groups. The scanner finds such values in a
// normalised copy of the string and maps each match back to the raw bytes
// it came from, so that the mask covers the encoded value whole.
//
// The copy is made only when the main loop saw a signal for it (see
// normSignal): a '%' followed by two hex digits, a full-width form, or a
// non-breaking space. Clean text pays nothing.

// normBuf is the normalised copy of a string and, for each of its bytes,
// the offset of the raw bytes it came from (off has one more entry: the
// raw length).
type normBuf struct {
	b   []byte
	off []int32
}

var normPool = sync.Pool{New: func() any { return &normBuf{} }}

// maxNorm bounds the strings that are normalised: offsets are int32, and
// a copy of a huge value is not worth it.
const maxNorm = 1 << 20

// normSignal reports whether s[i] (a '%' or a byte that starts a
// non-ASCII sequence the normaliser rewrites) starts something normalize
// would change.
func normSignal(s string, i int) bool {
	n := len(s)
	switch s[i] {
	case '%':
		return i+2 < n && isHex(s[i+1]) && isHex(s[i+2])
	case 0xC2: // U+00A0 no-break space
		return i+1 < n && s[i+1] == 0xA0
	case 0xE2: // U+202F narrow no-break space
		return i+2 < n && s[i+1] == 0x80 && s[i+2] == 0xAF
	case 0xEF: // U+FF01-U+FF5E full-width ASCII
		return i+2 < n && ((s[i+1] == 0xBC && s[i+2] >= 0x81) || (s[i+1] == 0xBD && s[i+2] <= 0x9E))
	}
	return false
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// normalize fills nb with s decoded: "%XX" (and "%25XX", a doubly encoded
// byte) as the byte it encodes, full-width ASCII as ASCII, and no-break,
// narrow no-break and ideographic spaces as ' '. Everything else is copied.
func normalize(nb *normBuf, s string) {
	nb.b = nb.b[:0]
	nb.off = nb.off[:0]
	n := len(s)
	for i := 0; i < n; {
		c := s[i]
		w := 1
		switch {
		case c == '%' && i+2 < n && isHex(s[i+1]) && isHex(s[i+2]):
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			w = 3
			if c == '%' && i+4 < n && isHex(s[i+3]) && isHex(s[i+4]) {
				c = unhex(s[i+3])<<4 | unhex(s[i+4])
				w = 5
			}
		case c == 0xC2 && i+1 < n && s[i+1] == 0xA0:
			c, w = ' ', 2
		case c == 0xE2 && i+2 < n && s[i+1] == 0x80 && s[i+2] == 0xAF:
			c, w = ' ', 3
		case c == 0xE3 && i+2 < n && s[i+1] == 0x80 && s[i+2] == 0x80:
			c, w = ' ', 3
		case c == 0xEF && i+2 < n && s[i+1] == 0xBC && s[i+2] >= 0x81 && s[i+2] <= 0xBF:
			c, w = s[i+2]-0x60, 3
		case c == 0xEF && i+2 < n && s[i+1] == 0xBD && s[i+2] >= 0x80 && s[i+2] <= 0x9E:
			c, w = s[i+2]-0x20, 3
		}
		nb.b = append(nb.b, c)
		nb.off = append(nb.off, int32(i))
		i += w
	}
	nb.off = append(nb.off, int32(n))
}

// scanNormalized scans the normalised copy of s and appends what it finds,
// mapped back to offsets in s. A match whose raw span is the same as its
// normalised one was found by the raw scan too; resolve drops the copy.
func (sc *Scanner) scanNormalized(dst []Match, s string) []Match {
	if len(s) > maxNorm {
		return dst
	}
	nb := normPool.Get().(*normBuf)
	normalize(nb, s)
	base := len(dst)
	// The copy is only read during the scan and the matches hold no part
	// of it, so converting it to a string without copying is safe; nb goes
	// back to the pool only after.
	dst, _ = sc.scanBuiltins(dst, unsafeString(nb.b), nil)
	for k := base; k < len(dst); k++ {
		dst[k].Start = int(nb.off[dst[k].Start])
		dst[k].End = int(nb.off[dst[k].End])
	}
	normPool.Put(nb)
	return dst
}

// unsafeString views b as a string without copying; b must not change
// while the string is in use.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
