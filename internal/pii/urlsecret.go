package pii

// Secrets in URLs: the userinfo, secret-named query, fragment and matrix
// parameters, tokens used as the user, and secret path segments
// (password-reset links, incoming-webhook URLs) ([URLSecret] in doc.go).

// parseUserinfo parses the authority after "://" at s[a:]. When it has
// userinfo (user@host, user:pass@host), it returns the position of the '@'
// and whether there is a password; otherwise -1.
func parseUserinfo(s string, a int) (int, bool) {
	at := -1
	colon := -1
	for p := a; p < len(s) && cls[s[p]]&cAuth != 0; p++ {
		switch s[p] {
		case '@':
			at = p
		case ':':
			if colon < 0 {
				colon = p
			}
		}
	}
	if at < 0 {
		return -1, false
	}
	return at, colon >= 0 && colon < at-1
}

// secretParam reports whether a lower-cased query parameter name (with '-'
// as '_') is secret-like.
func secretParam(name []byte) bool {
	switch string(name) {
	case "token", "access_token", "api_key", "apikey", "key", "password", "passwd", "pwd",
		"secret", "auth", "signature", "sig", "session", "sessionid", "code",
		// Common spellings of the same things.
		"refresh_token", "id_token", "auth_token", "client_secret", "session_id", "jsessionid",
		"phpsessid", "private_token", "x_amz_signature", "x_amz_security_token",
		"x_goog_signature", "access_key", "secret_key",
		// One-time codes, session ids and link tokens.
		"sid", "otp", "reset_token", "login_token", "magic_token", "verification_token",
		"verify_token", "confirm_token", "confirmation_token", "invite_token", "email_token",
		"session_token", "sessiontoken", "oauth_token", "oauth_verifier", "ticket",
		// Connection-string members.
		"accountkey", "sharedaccesskey", "sharedaccesssignature", "x_api_key", "api_token":
		return true
	}
	return false
}

// parseQueryParam parses name=value after the '?', '&', '#' or ';' at s[i].
// When name is secret-like, it returns the value's bounds; else -1, -1.
func (sc *Scanner) parseQueryParam(s string, i int) (int, int) {
	n := len(s)
	st := i + 1
	p := st
	var name [24]byte
	for p < n && cls[s[p]]&cPName != 0 {
		if p-st >= len(name) {
			return -1, -1
		}
		c := s[p]
		switch {
		case isUpper(c):
			c |= 0x20
		case c == '-':
			c = '_'
		}
		name[p-st] = c
		p++
	}
	if p == st || p >= n || s[p] != '=' || !(secretParam(name[:p-st]) || sc.params[string(name[:p-st])]) {
		return -1, -1
	}
	vs := p + 1
	ve := span(s, vs, cQVal)
	// A trailing '.' or ':' belongs to the sentence, not the value; a
	// '!' or '*' may end a password and is kept, so that the mask covers
	// the whole value.
	for ve > vs {
		c := s[ve-1]
		if c == '.' || c == ':' || (c == ')' && !hasByte(s[vs:ve], '(')) {
			ve--
			continue
		}
		break
	}
	if ve == vs || trivialValue(s[vs:ve]) {
		return -1, -1
	}
	return vs, ve
}

// trivialValue reports whether a parameter value holds no secret: booleans,
// null-likes, a single digit, placeholders.
func trivialValue(v string) bool {
	if len(v) > 9 {
		return false
	}
	var b [9]byte
	for i := 0; i < len(v); i++ {
		b[i] = lower(v[i])
	}
	switch string(b[:len(v)]) {
	case "true", "false", "null", "nil", "none", "undefined", "yes", "no", "on", "off",
		"0", "1", "redacted", "%s", "%v", "value", "xxx", "xxxx", "example":
		return true
	}
	return false
}

// tokenUser reports whether the userinfo of a URL without a password,
// s[a:at], is a token ("https://<token>@host"): at least 16 bytes with a
// digit and a letter, not an e-mail-like or dotted name.
func tokenUser(s string, a, at int) bool {
	if at-a < 16 {
		return false
	}
	var seen uint32
	for k := a; k < at; k++ {
		c := cls[s[k]]
		if c&cB64 == 0 {
			return false
		}
		seen |= c
	}
	return seen&cDigit != 0 && seen&(cUpper|cLower) != 0
}

// pathKeyword reports whether a URL path segment or host names a flow whose
// later segments carry a secret: password resets, e-mail verification,
// magic links, invitations, tokens, incoming webhooks.
func pathKeyword(seg string) bool {
	for _, w := range [...]string{"reset", "verify", "confirm", "activate", "magic", "invite", "token", "webhook", "hooks"} {
		if containsFold(seg, w) {
			return true
		}
	}
	return false
}

// pathSecret looks through the authority and path of the URL at s[a:] for
// a segment that is a secret: one after a pathKeyword segment (or host),
// of 20 or more base64url bytes with a digit, a lower-case and an
// upper-case letter ("/reset-password/Zx81Qm4LpR7s...",
// "hooks.slack.com/services/T.../B.../a1B2c3..."). It returns the first
// one's bounds, or -1, -1. Segments are checked for that shape first: clean
// URLs rarely have one, and then no keyword is looked for.
func pathSecret(s string, a int) (int, int) {
	n := len(s)
	p := a
	for p < n {
		st := p
		var seen uint32
		for p < n && s[p] != '/' && s[p] != '?' && s[p] != '#' && s[p] > ' ' && s[p] != '"' && s[p] != '\'' && s[p] != '<' && s[p] != '>' {
			seen |= cls[s[p]]
			if cls[s[p]]&cB64 == 0 {
				seen |= cNorm // not base64url: marks the segment as no candidate
			}
			p++
		}
		if p-st >= 20 && p-st <= maxKeyBody && seen&cNorm == 0 && seen&cDigit != 0 && seen&cUpper != 0 && seen&cLower != 0 && st > a && pathKeyword(s[a:st-1]) {
			return st, p
		}
		if p >= n || s[p] != '/' {
			break
		}
		p++
	}
	return -1, -1
}
