package pii

// Phone numbers, international and national ([Phone] in doc.go).

// phone groups: digit runs, optionally in parentheses, with the separator
// that came before each.
type pgroup struct {
	start, end int  // the digits
	sep        byte // separator before the group: 0 (none), ' ', '-', '.', ')'
	paren      bool
}

// phoneGroups tokenizes a phone number from s[p:]: groups of digits
// separated by one ' ', '-' or '.', a group possibly in parentheses (and
// then possibly followed directly by the next group). It fills g and returns
// how many groups it read.
func phoneGroups(s string, p int, g *[8]pgroup) int {
	n := len(s)
	k := 0
	var sep byte
	for k < len(g) && p < n {
		paren := s[p] == '('
		if paren {
			p++
		}
		st := p
		for p < n && isDigit(s[p]) {
			p++
		}
		end := p
		if end == st || end-st > 15 {
			return k
		}
		if paren {
			if p >= n || s[p] != ')' || end-st > 5 {
				return k
			}
			p++
		}
		g[k] = pgroup{start: st, end: end, sep: sep, paren: paren}
		k++
		if paren && p < n && isDigit(s[p]) {
			sep = ')'
			continue
		}
		if p+1 < n && (s[p] == ' ' || s[p] == '-' || s[p] == '.') && (isDigit(s[p+1]) || s[p+1] == '(') {
			sep = s[p]
			p++
			continue
		}
		return k
	}
	return k
}

func glen(g pgroup) int { return g.end - g.start }

// phoneEnd returns the end of the number whose last group is g, or 0 when a
// number may not end there. An extension ("x42", " x42", " ext. 42") is
// part of the number.
func phoneEnd(s string, g pgroup) int {
	if e := phoneExt(s, g.end); e > 0 {
		return e
	}
	if !numEndOK(s, g.end) {
		return 0
	}
	return g.end
}

// phoneExt returns the end of an extension at s[p:] ("x42", " x 42",
// " ext. 42", ";ext=42"), or 0.
func phoneExt(s string, p int) int {
	n := len(s)
	q := p
	if q < n && s[q] == ' ' {
		q++
	}
	switch {
	case q < n && lower(s[q]) == 'x':
		q++
	case q+3 <= n && hasPrefixFold(s[q:], "ext"):
		q += 3
		if q < n && s[q] == '.' {
			q++
		}
	case p+5 <= n && s[p:p+5] == ";ext=":
		q = p + 5
	default:
		return 0
	}
	if q < n && s[q] == ' ' {
		q++
	}
	d := q
	for d < n && d-q < 6 && isDigit(s[d]) {
		d++
	}
	if d == q || !numEndOK(s, d) {
		return 0
	}
	return d
}

// parseIntlPhone parses "+CC ..." at s[i] == '+'.
func parseIntlPhone(s string, i int) int {
	return parseIntlDigits(s, i+1)
}

// parseIntl00 parses "00CC ..." or "00 CC ..." (the international prefix
// written as 00) at s[i:], the word there being s[i:j].
func parseIntl00(s string, i, j int) int {
	if j-i == 2 {
		if j+1 < len(s) && s[j] == ' ' {
			return parseIntlDigits(s, j+1)
		}
		return 0
	}
	return parseIntlDigits(s, i+2)
}

// parseIntlDigits parses an international number whose country code starts
// at s[p].
func parseIntlDigits(s string, p int) int {
	if p >= len(s) || s[p]-'1' > 8 {
		return 0
	}
	var g [8]pgroup
	k := phoneGroups(s, p, &g)
	if k == 0 || g[0].paren {
		return 0
	}
	if k == 1 {
		if l := glen(g[0]); l < 8 || l > 15 {
			return 0
		}
		return phoneEnd(s, g[0])
	}
	if glen(g[0]) > 4 {
		return 0
	}
	// The longest run of groups with 7 to 15 digits that ends cleanly.
	digits := 0
	dots := 0
	best := 0
	for x := 0; x < k; x++ {
		if digits >= 10 && glen(g[x]) <= 2 && g[x].sep == ' ' {
			break // "+44 20 7946 0958 24 hours": the number is complete
		}
		if g[x].paren && glen(g[x]) == 1 && s[g[x].start] == '0' && x == 1 && x+1 < k && g[x+1].sep == ')' {
			continue // "+44 (0)20 ...": the trunk digit is dialled only at home
		}
		digits += glen(g[x])
		if digits > 15 {
			break
		}
		if g[x].sep == '.' {
			dots++
		}
		if digits >= 7 && x >= 1 && !g[x].paren && !(x == 1 && dots == 1) {
			if e := phoneEnd(s, g[x]); e > 0 {
				best = e
			}
		}
	}
	return best
}

// parseNationalPhone parses a national number at s[i] (a digit or '(').
func parseNationalPhone(s string, i int) int {
	var g [8]pgroup
	k := phoneGroups(s, i, &g)
	if k < 2 {
		return 0
	}
	// Leading "1" (NANP trunk): 1-800-555-0199, 1 (800) 555-0199.
	if !g[0].paren && glen(g[0]) == 1 && s[g[0].start] == '1' {
		if k >= 4 && nanp(s, g[1:k]) {
			return phoneEnd(s, g[3])
		}
		return 0
	}
	if nanp(s, g[:k]) {
		return phoneEnd(s, g[2])
	}
	// An area code in parentheses without a trunk 0: (11) 98765-4321,
	// (55) 1234 5678.
	if f := g[0]; f.paren && s[f.start] != '0' && glen(f) >= 2 && glen(f) <= 4 && k >= 3 {
		digits := glen(f)
		for x := 1; x < 3; x++ {
			if glen(g[x]) < 3 || g[x].paren {
				return 0
			}
			digits += glen(g[x])
		}
		if digits >= 10 && digits <= 12 && g[2].sep != ')' {
			return phoneEnd(s, g[2])
		}
		return 0
	}
	// Trunk prefix 0[1-9]: 07911 123456, 030 12345678, (02) 9876 5432,
	// 01 23 45 67 89.
	f := g[0]
	if l := glen(f); l < 2 || l > 5 || s[f.start] != '0' || s[f.start+1] == '0' {
		return 0
	}
	digits := glen(f)
	best := 0
	for x := 1; x < k; x++ {
		gx := g[x]
		if l := glen(gx); l < 2 || l > 8 || gx.paren {
			break
		}
		if x > 1 && gx.sep != g[x-1].sep && !(x == 2 && f.paren) {
			break
		}
		if digits >= 10 && glen(gx) <= 2 && gx.sep == ' ' {
			break
		}
		digits += glen(gx)
		if digits > 13 {
			break
		}
		if digits >= 9 {
			if e := phoneEnd(s, gx); e > 0 {
				best = e
			}
		}
	}
	return best
}

// nanp reports whether g starts with a North American number: 555-123-4567,
// 555.123.4567, 555 123 4567, (555) 123-4567. More groups may follow only
// after a space.
func nanp(s string, g []pgroup) bool {
	if len(g) < 3 || glen(g[0]) != 3 || glen(g[1]) != 3 || glen(g[2]) != 4 || g[1].paren || g[2].paren {
		return false
	}
	if g[0].paren {
		if s[g[0].start] == '0' || (g[1].sep != ')' && g[1].sep != ' ') {
			return false
		}
	} else if g[1].sep != g[2].sep {
		return false
	}
	if len(g) > 3 && g[3].sep != ' ' {
		return false
	}
	return true
}
