package pii

// US social security numbers ([SSN] in doc.go).

// parseSSN parses AAA-GG-SSSS (or with spaces) at s[i:], the area being the
// word s[i:i+3]. It returns the end, or 0.
func parseSSN(s string, i int) int {
	if i+11 > len(s) {
		return 0
	}
	sep := s[i+3]
	if s[i+6] != sep {
		return 0
	}
	for _, k := range [...]int{4, 5, 7, 8, 9, 10} {
		if !isDigit(s[i+k]) {
			return 0
		}
	}
	e := i + 11
	if !numEndOK(s, e) {
		return 0
	}
	area := int(s[i]-'0')*100 + int(s[i+1]-'0')*10 + int(s[i+2]-'0')
	if area == 0 || area == 666 || area >= 900 || s[i+4:i+6] == "00" || s[i+7:i+11] == "0000" {
		return 0
	}
	return e
}
