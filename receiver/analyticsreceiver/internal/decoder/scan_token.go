// The scanner's tokens: literals, numbers and strings (escapes, lone
// surrogates, the bytes a string saves once unescaped).

package decoder

import (
	"encoding/binary"

	"github.com/pulse-otel/pulse/internal/schema"
)

func (s *scanner) lit(i int, word string) int {
	for k := 0; k < len(word); k++ {
		if i+k >= len(s.b) || s.b[i+k] != word[k] {
			s.syntax(i+k, "invalid literal (expected "+word+")")
			return i + k
		}
	}
	return i + len(word)
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *scanner) number(i int) int {
	b := s.b
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		s.syntax(i, "invalid number (expected a digit)")
		return i
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			s.syntax(i, "invalid number (expected a digit after the decimal point)")
			return i
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			s.syntax(i, "invalid number (expected a digit in the exponent)")
			return i
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	return i
}

// str scans the string whose opening quote is at b[i]. It returns the
// offset after the closing quote, the length of the decoded string in bytes
// and whether it holds a lone surrogate escape.
func (s *scanner) str(i int) (end, n int, lone bool) {
	b := s.b
	i++
	start := i
	// saved counts the bytes escapes save in the decoded string.
	saved := 0
	for {
		// The common case: a run of plain bytes, eight at a time while no
		// byte of the word is a quote, a backslash or a control character.
		for i+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[i:])
			if (w-ones*0x20)&^w&highs|zero(w^(ones*'"'))|zero(w^(ones*'\\')) != 0 {
				break
			}
			i += 8
		}
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i >= len(b) {
			s.syntax(i, "unterminated string")
			return i, 0, lone
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, i - start - saved, lone
		case c < 0x20:
			s.syntax(i, "control character inside a string (escape it)")
			return i, 0, lone
		}
		// A backslash.
		if i+1 >= len(b) {
			s.syntax(i+1, "unterminated escape")
			return i + 1, 0, lone
		}
		switch b[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
			saved++
			continue
		case 'u':
		default:
			s.syntax(i+1, "invalid escape character")
			return i + 1, 0, lone
		}
		r, ok := schema.Hex4(b, i+2)
		if !ok {
			s.syntax(i+2, `invalid \u escape (expected four hex digits)`)
			return i + 2, 0, lone
		}
		i += 6
		switch {
		case r < 0x80:
			saved += 5
		case r < 0x800:
			saved += 4
		case r >= 0xd800 && r <= 0xdbff:
			// A high surrogate must be followed by a low one: 12 bytes, 4 decoded.
			if lo, ok := schema.Hex4(b, i+2); ok && i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' && lo >= 0xdc00 && lo <= 0xdfff {
				i += 6
				saved += 8
			} else {
				lone = true
				saved += 3
			}
		default: // a low surrogate alone, or any other BMP rune: 3 bytes
			lone = lone || r >= 0xdc00 && r <= 0xdfff
			saved += 3
		}
	}
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// zero has the high bit of each zero byte of w set (and maybe of bytes
// above one, which only makes a word go the slow way).
func zero(w uint64) uint64 { return (w - ones) &^ w & highs }

// plain marks the bytes that stand for themselves inside a string.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()
