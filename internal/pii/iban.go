package pii

// International bank account numbers ([IBAN] in doc.go).

// ibanLen holds the IBAN length per country code (index (c0-'A')*26+c1-'A').
var ibanLen = func() (t [26 * 26]uint8) {
	for _, e := range []struct {
		cc string
		n  uint8
	}{
		{"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16},
		{"BG", 22}, {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22},
		{"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"EE", 20},
		{"EG", 29}, {"ES", 24}, {"FI", 18}, {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22},
		{"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HN", 28}, {"HR", 21},
		{"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30},
		{"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20},
		{"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MN", 20},
		{"MR", 27}, {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23},
		{"PK", 24}, {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22},
		{"RU", 33}, {"SA", 24}, {"SC", 31}, {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24},
		{"SM", 27}, {"SO", 23}, {"ST", 25}, {"SV", 28}, {"TL", 23}, {"TN", 24}, {"TR", 26},
		{"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20}, {"YE", 30},
	} {
		t[int(e.cc[0]-'A')*26+int(e.cc[1]-'A')] = e.n
	}
	return t
}()

// parseIBAN parses an IBAN at s[i:] (two upper-case letters and two digits
// are known to be there), compact or in groups of four separated by single
// spaces. It returns the end of the IBAN-shaped string, or 0, and whether it
// passes the mod-97 check.
func parseIBAN(s string, i int) (int, bool) {
	n := len(s)
	L := int(ibanLen[int(s[i]-'A')*26+int(s[i+1]-'A')])
	if L == 0 {
		return 0, false
	}
	var buf [34]byte
	k := 0
	p := i
	var sep byte // ' ', '.' or '-' between groups of four, 0 when compact
	for k < L {
		if k > 0 && k%4 == 0 {
			if k == 4 && p < n && (s[p] == ' ' || s[p] == '.' || s[p] == '-') {
				sep = s[p]
			}
			if sep != 0 {
				if p >= n || s[p] != sep {
					return 0, false
				}
				p++
			}
		}
		if p >= n {
			return 0, false
		}
		c := s[p]
		if !isDigit(c) && !isUpper(c) {
			return 0, false
		}
		buf[k] = c
		k++
		p++
	}
	if p < n && isWord(s[p]) {
		return 0, false
	}
	// mod 97 of BBAN + country code + check digits, letters as 10..35.
	r := 0
	for x := 4; x < L+4; x++ {
		c := buf[x%L]
		if isDigit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	return p, r == 1
}
