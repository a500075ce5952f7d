package pii

import "math/bits"

// The built-in scanner: one pass over the bytes of s, driven by a 256-entry
// byte-class table (class.go). Only a few cheap signals start a detector:
//
//   - a word (a run of [A-Za-z0-9_]) that starts with a digit: IPv4, SSN,
//     credit card, national phone, IPv6, or a UUID to skip whole;
//   - a word that starts with two upper-case letters (IBAN, AKIA, ASIA,
//     AIza, SG.), "Bearer" in any case, or a short hex word followed by ':'
//     (IPv6) or an 8-hex word followed by '-' (a UUID to skip);
//   - inside a word: the 'J' of a word that starts "eyJ" (JWT), the first
//     '_' of "sk_live_", "ghp_", "github_pat_", "npm_", ...;
//   - a punctuation byte: '@' (email), "://" (URL userinfo and path
//     secrets), ':' (IPv6, MAC addresses, keyed secrets, Telegram bot
//     tokens), '=' (keyed secrets), '?', '&', '#', ';' (query parameters),
//     '+' and '(' (phones), '-' ("sk-", "xoxb-", "xapp-", "pypi-" keys,
//     MAC addresses, lower-case UUIDs);
//   - the '2' of a word that starts "ya29." (Google access tokens);
//   - '%' and the lead bytes of full-width forms and no-break spaces: they
//     only mark the string for a second scan of its normalised copy
//     (normalize.go).
//
// Everything else is skipped eight bytes or a word at a time. Every built-in match is made
// of ASCII bytes only, so its offsets always fall on rune boundaries, and the
// scanner reads bytes, never runes, so invalid UTF-8 is just more non-word
// bytes.

// scanBuiltins appends the built-in candidates in s to dst, in roughly
// ascending order; Scan sorts them and resolves overlaps.
//
// Most bytes are boring (lower-case letters, spaces, most punctuation,
// non-ASCII): the loop skips them eight at a time and stops only at an
// interesting byte (cInt): a digit, an upper-case letter, 'b', '_', '-' or a
// trigger punctuation byte. Lower-case key prefixes are found from their
// first '_' or '-' ("sk_live_", "ghp_", "xoxb-"), "eyJ" from its 'J', and a
// lower-case hex word of an IPv6 address from the ':' after it.
//
// Left-context rules ("a number may not follow "x-"", "not after the word
// version") ignore bytes that belong to a match already found: they are PII,
// not context, and the decision must not change once they are redacted.
// The floor at i is the end of the last match found before i, built-in or
// custom (custom matches are found first and passed in sorted by Start);
// detectors that look back do not look before it. (An email's local part
// may still reach back into a match of a lower tier: the email wins that
// overlap and covers it.)
//
// norm reports whether s holds something normalize rewrites (a "%XX"
// escape, a full-width form, a no-break space): then Scan also scans the
// normalised copy.
func (sc *Scanner) scanBuiltins(dst []Match, s string, custom []Match) (_ []Match, norm bool) {
	n := len(s)
	i := 0
	base := len(dst)
	cf := customFloor{m: custom}
	// A page path without scheme or host, as apps send a page
	// ("/account/reset-password/<token>"), is a URL path too.
	if n > 1 && s[0] == '/' && sc.on(URLSecret) {
		if a, b := pathSecret(s, 1); a >= 0 {
			dst = add(dst, URLSecret, a, b)
			i = b
		}
	}
	for {
		for i+8 <= n {
			b := s[i : i+8]
			m := uint64(intr[b[0]]) | uint64(intr[b[1]])<<8 | uint64(intr[b[2]])<<16 | uint64(intr[b[3]])<<24 |
				uint64(intr[b[4]])<<32 | uint64(intr[b[5]])<<40 | uint64(intr[b[6]])<<48 | uint64(intr[b[7]])<<56
			if m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto found
			}
			i += 8
		}
		for i < n && intr[s[i]] == 0 {
			i++
		}
		if i >= n {
			return dst, norm
		}
	found:
		c := cls[s[i]]
		next := 0
		switch {
		case c&cNorm != 0:
			norm = norm || normSignal(s, i)
			next = i + 1
		case c&cWord == 0:
			last := lastMatch(dst, base)
			dst, next = sc.punct(dst, s, i, last, max(last.End, cf.at(i)))
			if next <= i {
				next = i + 1
			}
		case i > 0 && cls[s[i-1]]&cWord != 0:
			if b := s[i]; b == 'b' || b == 'J' || b == '_' || b == '2' {
				dst, next = sc.midWord(dst, s, i)
			} else {
				next = wordEnd(s, i+1)
			}
		default:
			// A word starts at i.
			j := wordEnd(s, i+1)
			if c&cDigit != 0 {
				dst, next = sc.digitWord(dst, s, i, j, max(lastMatch(dst, base).End, cf.at(i)))
			} else if c&(cUpper|cLower) != 0 && (startCandidate(s, i, j) || (j < n && (s[j] == ':' || s[j] == '-') && c&cHex != 0)) {
				dst, next = sc.letterWord(dst, s, i, j)
			}
			if next <= i {
				next = j
			}
		}
		i = next
	}
}

// midWord handles an interesting byte inside a word. It returns where to
// continue.
func (sc *Scanner) midWord(dst []Match, s string, i int) ([]Match, int) {
	switch s[i] {
	case 'b':
		// Maybe "github_pat_": go on to the '_'.
		return dst, i + 1
	case '2':
		// Google OAuth access tokens: "ya29." and a body.
		if i >= 2 && s[i-2] == 'y' && s[i-1] == 'a' && (i == 2 || !isWord(s[i-3])) && i+3 < len(s) && s[i+1] == '9' && s[i+2] == '.' && sc.on(APIKey) {
			e := i + 3
			for e < len(s) && (cls[s[e]]&cB64 != 0 || (s[e] == '.' && e+1 < len(s) && cls[s[e+1]]&cB64 != 0)) && e-i <= maxKeyBody {
				e++
			}
			if e-i-3 >= 20 && e-i <= maxKeyBody && mixed(s[i+3:e]) {
				return add(dst, APIKey, i-2, e), e
			}
		}
	case 'J':
		if i >= 2 && s[i-2] == 'e' && s[i-1] == 'y' && (i == 2 || !isWord(s[i-3])) && sc.on(JWT) && jwtStartOK(s, i-2) {
			if e := parseJWT(s, i-2); e > 0 {
				return add(dst, JWT, i-2, e), e
			}
		}
	case '_':
		if w := wordStart(s, i, 6); w >= 0 && cls[s[w]]&cLower != 0 && sc.on(APIKey) {
			if e := parseAPIKey(s, w, wordEnd(s, i)); e > 0 {
				return add(dst, APIKey, w, e), e
			}
		}
	}
	return dst, wordEnd(s, i)
}

// startCandidate is a cheap filter for letterWord's prefix detectors on the
// word s[i:j], which starts with an upper-case letter or 'b': "Bearer" (any
// case), or two upper-case letters (IBAN, AKIA, ASIA, AIza, SG.).
func startCandidate(s string, i, j int) bool {
	if j-i < 2 {
		return false
	}
	return (j-i == 6 && lower(s[i]) == 'b') || (isUpper(s[i]) && isUpper(s[i+1])) || (j-i == 5 && (s[i] == 'B' || s[i] == 'b' || s[i] == 'T'))
}

// customFloor tracks the greatest End of the custom matches that start
// before a position; positions only grow.
type customFloor struct {
	m    []Match // sorted by Start
	k    int
	rEnd int
}

func (c *customFloor) at(i int) int {
	for c.k < len(c.m) && c.m[c.k].Start < i {
		c.rEnd = max(c.rEnd, c.m[c.k].End)
		c.k++
	}
	return c.rEnd
}

// lastMatch returns the last match appended since base, or the zero Match.
func lastMatch(dst []Match, base int) Match {
	if len(dst) > base {
		return dst[len(dst)-1]
	}
	return Match{}
}

func add(dst []Match, t Type, start, end int) []Match {
	return append(dst, Match{Type: t, Start: start, End: end, Pattern: -1})
}

// punct handles a trigger byte that is not part of a word. It returns where
// to continue, or 0 to go on with the next byte.
func (sc *Scanner) punct(dst []Match, s string, i int, last Match, floor int) ([]Match, int) {
	n := len(s)
	// prevWord: the byte before i continues a word (and is not PII).
	prevWord := i > floor && isWord(s[i-1])
	switch s[i] {
	case '@':
		if sc.on(Email) {
			f := 0
			if tier(last.Type) >= tier(Email) {
				f = last.End
			}
			if a, b := parseEmail(s, i, f); a >= 0 {
				return add(dst, Email, a, b), b
			}
		}
	case ':':
		if i+2 < n && s[i+1] == '/' && s[i+2] == '/' {
			if i <= floor || !isAlnum(s[i-1]) {
				return dst, i + 3
			}
			// The userinfo of an authority is never an email address
			// ("ssh://git@example.com"): skip it, reporting it when it has
			// a password.
			// A user without a password that is a token
			// ("https://<token>@host") is reported too.
			at, secret := parseUserinfo(s, i+3)
			next := i + 3
			if at >= 0 {
				if sc.on(URLSecret) && (secret || tokenUser(s, i+3, at)) {
					dst = add(dst, URLSecret, i+3, at)
				}
				next = at + 1
			}
			if sc.on(URLSecret) {
				if a, b := pathSecret(s, next); a >= 0 {
					return add(dst, URLSecret, a, b), b
				}
			}
			return dst, next
		}
		if sc.on(Secret) {
			// Continue at the value, so that a key or a token there is
			// found too and wins the overlap as the more specific.
			if a, b := parseKeyedSecret(s, i, floor); a >= 0 {
				return add(dst, Secret, a, b), a
			}
		}
		if sc.on(APIKey) && i > floor && isDigit(s[i-1]) {
			if a, b := parseTelegram(s, i, floor); a >= 0 {
				return add(dst, APIKey, a, b), b
			}
		}
		if !sc.on(IPv6) {
			break
		}
		if i+1 < n && s[i+1] == ':' && (i <= floor || ipv6StartOK(s, i)) {
			if e := parseIPv6(s, i); e > 0 {
				return add(dst, IPv6, i, e), e
			}
			break
		}
		// A lower-case hex word before the ':' ("fe80::1"); words that start
		// with a digit or an upper-case letter were tried at their start.
		if w := wordStart(s, i, 4); w >= 0 && w < i && s[w]-'a' < 6 && ipv6StartOK(s, w) && allHex(s[w:i]) {
			if i-w == 2 && sc.on(MACAddress) {
				if e := parseMAC(s, w); e > 0 {
					return add(dst, MACAddress, w, e), e
				}
			}
			if e := parseIPv6(s, w); e > 0 {
				return add(dst, IPv6, w, e), e
			}
		}
	case '-':
		// "sk-", "xoxb-", "glpat-" keys and UUIDs that start with a
		// lower-case letter.
		if w := wordStart(s, i, 8); w >= 0 && w < i && cls[s[w]]&cLower != 0 {
			if i-w == 2 && sc.on(MACAddress) && allHex(s[w:i]) && macStartOK(s, w) {
				if e := parseMAC(s, w); e > 0 {
					return add(dst, MACAddress, w, e), e
				}
			}
			if i-w == 8 {
				if e := uuidEnd(s, w, i); e > 0 {
					return dst, e
				}
			} else if sc.on(APIKey) {
				if e := parseAPIKey(s, w, i); e > 0 {
					return add(dst, APIKey, w, e), e
				}
			}
		}
	case '?', '&', '#', ';':
		if sc.on(URLSecret) {
			if a, b := sc.parseQueryParam(s, i); a >= 0 {
				return add(dst, URLSecret, a, b), b
			}
		}
	case '=':
		if sc.on(Secret) {
			// Continue at the value, so that a key or a token there is
			// found too and wins the overlap as the more specific.
			if a, b := parseKeyedSecret(s, i, floor); a >= 0 {
				return add(dst, Secret, a, b), a
			}
		}
	case '+':
		if sc.on(Phone) && !prevWord && (i <= floor || s[i-1] != '+') {
			if e := parseIntlPhone(s, i); e > 0 {
				return add(dst, Phone, i, e), e
			}
		}
	case '(':
		if sc.on(Phone) && !prevWord && i+1 < n && isDigit(s[i+1]) {
			if e := parseNationalPhone(s, i); e > 0 {
				return add(dst, Phone, i, e), e
			}
		}
	}
	return dst, 0
}

// letterWord handles the word s[i:j] that starts with an upper-case letter
// or 'b' (the lower-case letters that start a key prefix are boring; those
// keys are found from their first '_' or '-').
func (sc *Scanner) letterWord(dst []Match, s string, i, j int) ([]Match, int) {
	n := len(s)
	b := s[i]
	if j-i == 6 && lower(b) == 'b' && sc.on(BearerToken) {
		if a, e := parseBearer(s, i); a > 0 {
			// Continue at the token, so that a JWT or an API key there is
			// found too and wins the overlap as the more specific.
			return add(dst, BearerToken, a, e), a
		}
	}
	if j-i == 5 && sc.on(Secret) && (hasPrefixFold(s[i:j], "basic") || s[i:j] == "Token") {
		if a, e := parseAuthScheme(s, i, j); a > 0 {
			return add(dst, Secret, a, e), e
		}
	}
	if isUpper(b) && j-i >= 2 && isUpper(s[i+1]) {
		if sc.on(APIKey) {
			if e := parseAPIKey(s, i, j); e > 0 {
				return add(dst, APIKey, i, e), e
			}
		}
		if j-i >= 4 && isDigit(s[i+2]) && isDigit(s[i+3]) && sc.on(IBAN) {
			// An IBAN-shaped string that fails mod-97 is skipped whole, so
			// that its digit groups are not taken for a phone or a card.
			if e, ok := parseIBAN(s, i); ok {
				return add(dst, IBAN, i, e), e
			} else if e > 0 {
				return dst, e
			}
		}
	}
	if j < n && j-i <= 8 && isHex(b) {
		if (j-i == 2 || j-i == 4) && sc.on(MACAddress) && allHex(s[i:j]) {
			if e := parseMAC(s, i); e > 0 {
				return add(dst, MACAddress, i, e), e
			}
		}
		switch s[j] {
		case ':':
			if j-i <= 4 && sc.on(IPv6) && ipv6StartOK(s, i) && allHex(s[i:j]) {
				if e := parseIPv6(s, i); e > 0 {
					return add(dst, IPv6, i, e), e
				}
			}
		case '-':
			if e := uuidEnd(s, i, j); e > 0 {
				return dst, e
			}
		}
	}
	return dst, 0
}

// digitWord handles the word s[i:j] that starts with a digit.
func (sc *Scanner) digitWord(dst []Match, s string, i, j, floor int) ([]Match, int) {
	n := len(s)
	ok := numStartOK(s, i, floor)
	if !ok && !ipv4RangeEnd(s, i) {
		return dst, 0
	}
	d := i + 1
	for d < j && isDigit(s[d]) {
		d++
	}
	var next byte
	if j < n {
		next = s[j]
	}
	if (next == ':' || next == '-' || next == '.') && (j-i == 2 || j-i == 4) && sc.on(MACAddress) && allHex(s[i:j]) {
		if e := parseMAC(s, i); e > 0 {
			return add(dst, MACAddress, i, e), e
		}
	}
	if d < j {
		// Letters or '_' in the word: only hex-based shapes can start here.
		if j-i <= 4 && next == ':' && sc.on(IPv6) && ipv6StartOK(s, i) && allHex(s[i:j]) {
			if e := parseIPv6(s, i); e > 0 {
				return add(dst, IPv6, i, e), e
			}
		}
		if next == '-' {
			if e := uuidEnd(s, i, j); e > 0 {
				return dst, e
			}
		}
		return dst, 0
	}
	L := j - i
	if next == '.' && L <= 3 && sc.on(IPv4) {
		// IPv4 has its own boundaries: a range "10.0.0.1-10.0.0.9" is two
		// addresses, and only a '.' and a digit continue one.
		if e := parseIPv4(s, i); e > 0 && ipv4EndOK(s, e) && ipv4ContextOK(s, i, floor) && !ipv4NotHost(s, i, e) {
			return add(dst, IPv4, i, e), e
		}
	}
	if !ok {
		return dst, 0
	}
	switch next {
	case ':':
		if L <= 4 && sc.on(IPv6) && ipv6StartOK(s, i) {
			if e := parseIPv6(s, i); e > 0 {
				return add(dst, IPv6, i, e), e
			}
		}
		return dst, 0
	case '-':
		if e := uuidEnd(s, i, j); e > 0 {
			return dst, e
		}
		fallthrough
	case ' ', '.':
		if L == 2 && next != '.' && sc.on(IMEI) {
			if e := parseGroupedIMEI(s, i); e > 0 {
				return add(dst, IMEI, i, e), e
			}
		}
		if L == 3 && next != '.' && sc.on(SSN) {
			if e := parseSSN(s, i); e > 0 {
				return add(dst, SSN, i, e), e
			}
		}
		if L == 4 && sc.on(CreditCard) {
			if e := parseGroupedCard(s, i); e > 0 {
				return add(dst, CreditCard, i, e), e
			}
		}
	}
	if L >= 13 && L <= 19 {
		if sc.on(CreditCard) && numEndOK(s, j) && validCard(s, i, j) {
			return add(dst, CreditCard, i, j), j
		}
		if L == 15 && sc.on(IMEI) && numEndOK(s, j) && validIMEI(s[i:j]) {
			return add(dst, IMEI, i, j), j
		}
		return dst, 0
	}
	if L >= 2 && L <= 5 && s[i] == '0' && s[i+1] == '0' && next == ' ' && sc.on(Phone) && !(i >= 2 && s[i-1] == ' ' && isDigit(s[i-2])) {
		if e := parseIntl00(s, i, j); e > 0 {
			return add(dst, Phone, i, e), e
		}
	}
	// National phones start with a 3-digit area code, a trunk '0' or the
	// NANP '1'.
	if (next == '-' || next == '.' || next == ' ') && (L == 3 || (s[i] == '0' && L <= 5) || (L == 1 && s[i] == '1')) && sc.on(Phone) {
		if e := parseNationalPhone(s, i); e > 0 {
			return add(dst, Phone, i, e), e
		}
	}
	return dst, 0
}

// uuidEnd returns the end of the UUID (8-4-4-4-12 hex) whose first word is
// s[i:j], or 0.
func uuidEnd(s string, i, j int) int {
	if j-i != 8 || i+36 > len(s) {
		return 0
	}
	for k := 8; k < 36; k++ {
		c := s[i+k]
		if k == 8 || k == 13 || k == 18 || k == 23 {
			if c != '-' {
				return 0
			}
		} else if !isHex(c) {
			return 0
		}
	}
	if !allHex(s[i:j]) || (i+36 < len(s) && isWord(s[i+36])) {
		return 0
	}
	return i + 36
}
