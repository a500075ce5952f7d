package pii

import "math/bits"

// The byte-class table the scanner runs on, and the small byte helpers the
// detectors share.

const (
	cDigit uint32 = 1 << iota // 0-9
	cUpper                    // A-Z
	cLower                    // a-z
	cHex                      // 0-9 a-f A-F
	cWord                     // [A-Za-z0-9_]: what the main loop skips a word of
	cLocal                    // email local part: alnum . _ % + - '
	cB64                      // base64url: alnum - _
	cTok                      // RFC 6750 b64token: alnum - . _ ~ + /
	cPName                    // query parameter name: alnum _ . -
	cQVal                     // query parameter value
	cAuth                     // URL authority: unreserved, sub-delims but quotes/parens/comma, : @ %
	cInt                      // interesting: the main loop stops here (see scanBuiltins)
	cNorm                     // '%' and the lead bytes of what normalize rewrites

	cAlnum = cDigit | cUpper | cLower
)

var cls = func() (t [256]uint32) {
	set := func(chars string, f uint32) {
		for i := 0; i < len(chars); i++ {
			t[chars[i]] |= f
		}
	}
	for c := '0'; c <= '9'; c++ {
		t[c] |= cDigit | cHex
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] |= cUpper
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] |= cLower
	}
	set("abcdefABCDEF", cHex)
	for c := 0; c < 256; c++ {
		if t[c]&cAlnum != 0 {
			t[c] |= cWord | cLocal | cB64 | cTok | cPName | cQVal | cAuth
		}
	}
	set("_", cWord|cLocal|cB64|cTok|cPName|cQVal|cAuth)
	set(".%+-'", cLocal)
	set("-", cB64)
	set("-.~+/", cTok)
	set(".-", cPName)
	set("-._~%+/=:@!$*()", cQVal)
	set("-.~!$&*+;=:@%", cAuth)
	set("@:?&#;+(-_b0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ=", cInt)
	set("%\xc2\xe2\xef", cInt|cNorm)
	return t
}()

// intr is cInt as one byte per entry, for the eight-at-a-time skip.
var intr = func() (t [256]uint8) {
	for c := range t {
		if cls[c]&cInt != 0 {
			t[c] = 1
		}
	}
	return t
}()

// nonWord is 1 for the bytes that end a word, for wordEnd.
var nonWord = func() (t [256]uint8) {
	for c := range t {
		if cls[c]&cWord == 0 {
			t[c] = 1
		}
	}
	return t
}()

func isDigit(c byte) bool { return c-'0' < 10 }
func isHex(c byte) bool   { return cls[c]&cHex != 0 }
func isWord(c byte) bool  { return cls[c]&cWord != 0 }
func isAlnum(c byte) bool { return cls[c]&cAlnum != 0 }
func isUpper(c byte) bool { return c-'A' < 26 }

func lower(c byte) byte {
	if isUpper(c) {
		return c | 0x20
	}
	return c
}

// numStartOK reports whether a number may start at s[i]: the byte before it
// must not continue a number or a word ("v1.2", "id-555").
func numStartOK(s string, i, floor int) bool {
	if i == 0 {
		return true
	}
	switch s[i-1] {
	case '.', '-':
		return i-2 < floor || !isWord(s[i-2])
	case '+':
		return false
	}
	return true
}

// numEndOK reports whether a number may end at s[e]: the next byte must not
// be a word byte, nor a '.' or '-' followed by a digit.
func numEndOK(s string, e int) bool {
	if e >= len(s) {
		return true
	}
	c := s[e]
	if isWord(c) {
		return false
	}
	if (c == '.' || c == '-') && e+1 < len(s) && isDigit(s[e+1]) {
		return false
	}
	return true
}

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if lower(s[i]) != prefix[i] {
			return false
		}
	}
	return true
}

// containsFold reports whether s contains the lower-case ASCII word sub,
// ignoring ASCII case.
func containsFold(s, sub string) bool {
	for x := 0; x+len(sub) <= len(s); x++ {
		if hasPrefixFold(s[x:], sub) {
			return true
		}
	}
	return false
}

// span returns the end of the run of bytes of class f from s[p:].
func span(s string, p int, f uint32) int {
	for p < len(s) && cls[s[p]]&f != 0 {
		p++
	}
	return p
}

// spanMax is span that stops after limit bytes.
func spanMax(s string, p int, f uint32, limit int) int {
	if len(s)-p > limit {
		s = s[:p+limit]
	}
	return span(s, p, f)
}

func hasByte(s string, b byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return true
		}
	}
	return false
}

// wordStart returns the start of the word that ends at s[i-1], when it is at
// most limit bytes long; else -1.
func wordStart(s string, i, limit int) int {
	w := i
	for w > 0 && cls[s[w-1]]&cWord != 0 {
		w--
		if i-w > limit {
			return -1
		}
	}
	return w
}

// wordEnd returns the end of the word that goes on at s[i]. It looks at
// eight bytes at a time: words are short, and a loop that ends at an
// unpredictable byte costs a branch misprediction per word.
func wordEnd(s string, i int) int {
	for i+8 <= len(s) {
		b := s[i : i+8]
		m := uint64(nonWord[b[0]]) | uint64(nonWord[b[1]])<<8 | uint64(nonWord[b[2]])<<16 | uint64(nonWord[b[3]])<<24 |
			uint64(nonWord[b[4]])<<32 | uint64(nonWord[b[5]])<<40 | uint64(nonWord[b[6]])<<48 | uint64(nonWord[b[7]])<<56
		if m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(s) && cls[s[i]]&cWord != 0 {
		i++
	}
	return i
}
