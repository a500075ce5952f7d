package pii

// Payment card numbers ([CreditCard] in doc.go).

// parseGroupedCard parses a card number written in groups ("4111 1111 1111
// 1111", "3782-822463-10005") whose first group is the 4-digit word at
// s[i:i+4]. It returns the end of the longest valid candidate, or 0.
func parseGroupedCard(s string, i int) int {
	n := len(s)
	sep := s[i+4]
	var digits [19]byte
	copy(digits[:], s[i:i+4])
	nd := 4
	p := i + 4
	best := 0
	for p+1 < n && s[p] == sep && isDigit(s[p+1]) {
		q := p + 1
		for q < n && isDigit(s[q]) {
			q++
		}
		gl := q - p - 1
		if gl < 2 || gl > 6 || nd+gl > 19 {
			break
		}
		copy(digits[nd:], s[p+1:q])
		nd += gl
		p = q
		if nd >= 13 && numEndOK(s, p) && cardDigitsValid(digits[:nd]) {
			best = p
		}
		if p < n && isWord(s[p]) {
			break
		}
	}
	if best > 0 && sep == '-' && best != p {
		// Dash groups end where the dashes end.
		return 0
	}
	return best
}

// validCard checks the contiguous digit run s[i:j].
func validCard(s string, i, j int) bool {
	var digits [19]byte
	copy(digits[:], s[i:j])
	return cardDigitsValid(digits[:j-i])
}

func cardDigitsValid(d []byte) bool {
	return knownIIN(d) && luhn(d)
}

func luhn(d []byte) bool {
	sum := 0
	dbl := false
	for k := len(d) - 1; k >= 0; k-- {
		v := int(d[k] - '0')
		if dbl {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		dbl = !dbl
	}
	return sum%10 == 0
}

// knownIIN checks the issuer prefix against the number's length.
func knownIIN(d []byte) bool {
	L := len(d)
	p2 := int(d[0]-'0')*10 + int(d[1]-'0')
	p3 := p2*10 + int(d[2]-'0')
	p4 := p3*10 + int(d[3]-'0')
	switch d[0] {
	case '4': // Visa (the legacy 13-digit numbers collide with EAN-13 barcodes)
		return L == 16 || L == 19
	case '5':
		if p2 >= 51 && p2 <= 55 { // Mastercard
			return L == 16
		}
		return (p2 == 50 || (p2 >= 56 && p2 <= 58)) && L >= 16 // Maestro
	case '2':
		if p4 >= 2221 && p4 <= 2720 { // Mastercard 2-series
			return L == 16
		}
		return p4 >= 2200 && p4 <= 2204 && L >= 16 // Mir
	case '3':
		switch {
		case p2 == 34 || p2 == 37: // American Express
			return L == 15
		case p4 >= 3528 && p4 <= 3589: // JCB
			return L >= 16
		case (p3 >= 300 && p3 <= 305) || p4 == 3095 || p2 == 36 || p2 == 38 || p2 == 39: // Diners Club
			return L >= 14
		}
	case '6':
		switch {
		case p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65: // Discover
			return L >= 16
		case p2 == 62: // UnionPay
			return L >= 16
		case p2 == 63 || p2 == 67: // Maestro
			return L >= 16
		}
	}
	return false
}
