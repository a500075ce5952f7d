package pii

// Persistent device identifiers: MAC addresses and IMEIs. Both single out
// a device, and so its owner, for as long as it is in use: personal data
// under GDPR and CCPA.

// macStartOK reports whether a MAC address may start at s[i]: not inside
// a longer colon, dash or dot run.
func macStartOK(s string, i int) bool {
	if i == 0 {
		return true
	}
	c := s[i-1]
	return !isWord(c) && c != ':' && c != '-' && c != '.'
}

// parseMAC parses a MAC address at s[i:]: six octets of two hex digits
// separated by all ':' or all '-' (3c:22:fb:1a:9e:07, 3C-22-FB-1A-9E-07),
// or three groups of four separated by '.' (3c22.fb1a.9e07, Cisco). It
// returns the end, or 0. The all-zero and the broadcast address name no
// device and are not matched.
func parseMAC(s string, i int) int {
	n := len(s)
	if !macStartOK(s, i) || i+14 > n {
		return 0
	}
	var e int
	switch sep := s[i+2]; {
	case sep == ':' || sep == '-':
		if i+17 > n {
			return 0
		}
		for k := 0; k < 17; k++ {
			c := s[i+k]
			if k%3 == 2 {
				if c != sep {
					return 0
				}
			} else if !isHex(c) {
				return 0
			}
		}
		e = i + 17
		if e+1 < n && s[e] == sep && isHex(s[e+1]) {
			return 0 // more groups: not a MAC address
		}
	case s[i+4] == '.':
		for k := 0; k < 14; k++ {
			c := s[i+k]
			if k == 4 || k == 9 {
				if c != '.' {
					return 0
				}
			} else if !isHex(c) {
				return 0
			}
		}
		e = i + 14
		if e+1 < n && s[e] == '.' && isHex(s[e+1]) {
			return 0
		}
	default:
		return 0
	}
	if e < n && isWord(s[e]) {
		return 0
	}
	zero, ff := true, true
	for k := i; k < e; k++ {
		if c := s[k]; isHex(c) {
			zero = zero && c == '0'
			ff = ff && lower(c) == 'f'
		}
	}
	if zero || ff {
		return 0
	}
	return e
}

// validIMEI reports whether the 15 digits d are an IMEI: Luhn-valid, with
// a reporting-body prefix in use (the first two digits of the type
// allocation code). The prefix keeps most 15-digit ids out: one random
// number in ten passes Luhn.
func validIMEI(d string) bool {
	if len(d) != 15 {
		return false
	}
	switch d[:2] {
	case "01", "30", "33", "35", "44", "45", "49", "50", "51", "52", "53", "54", "86", "91", "98", "99":
	default:
		return false
	}
	var b [15]byte
	copy(b[:], d)
	return luhn(b[:])
}

// parseGroupedIMEI parses an IMEI written AA-BBBBBB-CCCCCC-D or with
// spaces (the layout printed on devices), at s[i:] where the two-digit
// word s[i:i+2] starts it. It returns the end, or 0.
func parseGroupedIMEI(s string, i int) int {
	if i+18 > len(s) {
		return 0
	}
	sep := s[i+2]
	var d [15]byte
	k := 0
	for p := i; p < i+18; p++ {
		c := s[p]
		if p == i+2 || p == i+9 || p == i+16 {
			if c != sep {
				return 0
			}
			continue
		}
		if !isDigit(c) {
			return 0
		}
		d[k] = c
		k++
	}
	if !numEndOK(s, i+18) || !validIMEI(string(d[:])) {
		return 0
	}
	return i + 18
}
