package pii

// Credentials that no vendor prefix gives away: values named by their key
// (key=value, key: value, "key":"value") and the Basic and Token
// authorization schemes ([Secret] in doc.go). Secrets in URLs are in
// urlsecret.go.

// secretKey reports whether a key name, lower-cased with '-' read as '_',
// names a credential: a password, a secret, a token, an API or account
// key. Names that only mention one ("password_set", "token_count",
// "token_type") do not.
func secretKey(k []byte) bool {
	switch string(k) {
	case "password", "passwd", "pwd", "pass", "passphrase", "secret", "token", "api_key", "apikey",
		"x_api_key", "auth_token", "access_token", "refresh_token", "id_token", "client_secret",
		"secret_key", "private_key", "access_key", "accountkey", "sharedaccesskey", "aws_secret_access_key",
		"session_token", "sessiontoken", "credentials", "credential":
		return true
	}
	for _, suf := range [...]string{"password", "passwd", "_secret", "_token", "secret_key", "_api_key", "apikey", "accountkey", "access_key"} {
		if len(k) > len(suf) && string(k[len(k)-len(suf):]) == suf {
			return true
		}
	}
	return false
}

// secretKeyEnd is a cheap filter for parseKeyedSecret: the key before
// s[i] (or before its closing quote) ends the way a secretKey name ends.
func secretKeyEnd(s string, i, floor int) bool {
	e := i
	if e > floor && (s[e-1] == '"' || s[e-1] == '\'') {
		e--
	}
	if e-2 < floor {
		return false
	}
	switch string([]byte{lower(s[e-2]), lower(s[e-1])}) {
	case "rd", "wd", "ss", "se", "et", "en", "ey", "ls", "al":
		return true
	}
	return false
}

// keyName reads the key that ends right before s[e] (a key quoted as in
// JSON ends before its closing quote), lower-cased into buf with '-' as
// '_'. It returns the key and where it starts (the opening quote for a
// quoted key), or nil.
func keyName(s string, e, floor int, buf *[40]byte) ([]byte, int) {
	q := e
	quoted := q > floor && (s[q-1] == '"' || s[q-1] == '\'')
	if quoted {
		q--
	}
	b := q
	for b > floor && q-b < len(buf) && (isWord(s[b-1]) || s[b-1] == '-' || s[b-1] == '.') {
		b--
	}
	if b == q || (b > floor && (isWord(s[b-1]) || s[b-1] == '-' || s[b-1] == '.')) {
		return nil, 0
	}
	if quoted {
		if b <= floor || s[b-1] != s[q] {
			return nil, 0
		}
		b--
	}
	st := b
	if quoted {
		st++
	}
	k := buf[:0]
	for x := st; x < q; x++ {
		c := lower(s[x])
		if c == '-' {
			c = '_'
		}
		k = append(k, c)
	}
	return k, b
}

// parseKeyedSecret parses the value of a secret-named key at the '=' or
// ':' at s[i]; the key does not reach back before floor. The value is quoted (up to the closing quote) or runs to
// whitespace or a delimiter; it must be at least 6 bytes and hold a digit
// or a symbol, so that prose ("password: must be 12 characters"),
// placeholders ("********", "<redacted>", "${DB_PASSWORD}") and flags are
// left alone. It returns the value's bounds, or -1, -1.
func parseKeyedSecret(s string, i, floor int) (int, int) {
	n := len(s)
	if !secretKeyEnd(s, i, floor) {
		return -1, -1
	}
	var buf [40]byte
	k, ks := keyName(s, i, floor, &buf)
	if k == nil || !secretKey(k) {
		return -1, -1
	}
	if ks > 0 {
		switch s[ks-1] {
		case '?', '&', '#', ';':
			return -1, -1 // a parameter list: parseQueryParam's job
		}
	}
	p := i + 1
	for p < n && p-i <= 3 && (s[p] == ' ' || s[p] == '\t') {
		p++
	}
	if p >= n {
		return -1, -1
	}
	var vs, ve int
	if q := s[p]; q == '"' || q == '\'' {
		vs = p + 1
		ve = vs
		for ve < n && s[ve] != q && s[ve] != '\n' && ve-vs <= maxKeyBody {
			ve++
		}
		if ve >= n || s[ve] != q {
			return -1, -1
		}
	} else {
		vs = p
		ve = vs
		for ve < n && ve-vs <= maxKeyBody {
			c := s[ve]
			if c <= ' ' || c == '"' || c == '\'' || c == ',' || c == ';' || c == '}' || c == ']' || c == '&' || c == '<' || c == '>' {
				break
			}
			ve++
		}
		// A '.', ',' or ':' at the end belongs to the sentence; a '!'
		// or '*' may end a password and stays in the mask.
		for ve > vs && (s[ve-1] == '.' || s[ve-1] == ':') {
			ve--
		}
	}
	if ve-vs < 6 || ve-vs > maxKeyBody || !credentialLike(s[vs:ve]) {
		return -1, -1
	}
	return vs, ve
}

// credentialLike reports whether v may be a credential: it holds a digit
// or a symbol, and does not start like a placeholder or a template.
func credentialLike(v string) bool {
	switch v[0] {
	case '<', '*', '$', '{', '%', '[', '(':
		return false
	}
	var seen uint32
	other := false
	for k := 0; k < len(v); k++ {
		c := cls[v[k]]
		seen |= c
		if c&cAlnum == 0 {
			other = true
		}
	}
	return seen&cDigit != 0 || other
}

// parseAuthScheme parses the credential after "Basic" or "Token" (the word
// s[i:j]) and spaces. A Basic credential must be base64 of "user:pass"; a
// Token one at least 16 token characters with a digit and a letter. It
// returns the credential's bounds, or 0, 0.
func parseAuthScheme(s string, i, j int) (int, int) {
	n := len(s)
	p := j
	for p < n && s[p] == ' ' && p-j < 4 {
		p++
	}
	if p == j || p >= n {
		return 0, 0
	}
	basic := lower(s[i]) == 'b'
	ts := p
	if basic {
		for p < n && (isAlnum(s[p]) || s[p] == '+' || s[p] == '/') && p-ts <= maxKeyBody {
			p++
		}
		for p < n && s[p] == '=' && p-ts <= maxKeyBody+2 {
			p++
		}
		if p-ts < 8 || p-ts > maxKeyBody || (p < n && isWord(s[p])) || !basicUserPass(s[ts:p]) {
			return 0, 0
		}
		return ts, p
	}
	var seen uint32
	for p < n && cls[s[p]]&cTok != 0 && p-ts <= maxKeyBody {
		seen |= cls[s[p]]
		p++
	}
	if p-ts < 16 || p-ts > maxKeyBody || seen&cDigit == 0 || seen&(cUpper|cLower) == 0 || (p < n && s[p] == '=') {
		return 0, 0
	}
	return ts, p
}

// basicUserPass reports whether v is standard base64 of printable text
// holding a ':' (user:password), decoding without allocating.
func basicUserPass(v string) bool {
	var acc, nb uint32
	colon := false
	for k := 0; k < len(v); k++ {
		c := v[k]
		var d uint32
		switch {
		case isUpper(c):
			d = uint32(c - 'A')
		case c-'a' < 26:
			d = uint32(c-'a') + 26
		case isDigit(c):
			d = uint32(c-'0') + 52
		case c == '+':
			d = 62
		case c == '/':
			d = 63
		case c == '=':
			return colon && k >= len(v)-2
		default:
			return false
		}
		acc = acc<<6 | d
		nb += 6
		if nb >= 8 {
			nb -= 8
			b := byte(acc >> nb)
			acc &= 1<<nb - 1
			if b < 0x20 || b == 0x7f {
				return false
			}
			colon = colon || b == ':'
		}
	}
	return colon
}
