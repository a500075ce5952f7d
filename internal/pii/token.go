package pii

// Tokens and keys that give themselves away by their shape or prefix: JWTs,
// Bearer tokens, vendor API keys and Telegram bot tokens ([JWT],
// [BearerToken], [APIKey] in doc.go).

func jwtStartOK(s string, i int) bool {
	return i == 0 || (s[i-1] != '.' && s[i-1] != '-')
}

// parseJWT parses header.payload.signature (or the five segments of a JWE)
// at s[i:], which starts with "eyJ". It returns the end, or 0.
func parseJWT(s string, i int) int {
	n := len(s)
	p := i
	seg := 0
	for {
		st := p
		for p < n && cls[s[p]]&cB64 != 0 {
			p++
		}
		seg++
		switch seg {
		case 1:
			if p-st < 10 {
				return 0
			}
		case 2:
			if p-st < 2 {
				return 0
			}
		}
		if p < n && s[p] == '.' && seg < 5 && (seg <= 2 || (p+1 < n && cls[s[p+1]]&cB64 != 0)) {
			p++
			continue
		}
		break
	}
	if seg != 3 && seg != 5 {
		return 0
	}
	return p
}

// parseBearer parses "Bearer <token>" at s[i:] (the word there has six
// letters). It returns the token's bounds, or 0, 0.
func parseBearer(s string, i int) (int, int) {
	n := len(s)
	if !hasPrefixFold(s[i:], "bearer") {
		return 0, 0
	}
	p := i + 6
	for p < n && (s[p] == ' ' || s[p] == '\t') && p-i < 10 {
		p++
	}
	if p == i+6 {
		return 0, 0
	}
	ts := p
	var seen uint32
	for p < n && cls[s[p]]&cTok != 0 {
		seen |= cls[s[p]]
		p++
	}
	for p < n && s[p] == '=' {
		p++
	}
	te := p
	for te > ts && s[te-1] == '.' {
		te--
	}
	if te-ts < 16 || seen&cDigit == 0 || seen&(cUpper|cLower) == 0 {
		return 0, 0
	}
	return ts, te
}

// maxKeyBody bounds how far a key body is read: real keys are shorter, and
// the bound keeps "sk-sk-sk-..." from being read again from every "sk-".
const maxKeyBody = 512

// keyBody checks the body of a key that starts at s[p:]: a run of class f
// (alnum when f is cAlnum), minLen to maxKeyBody long, not followed by a word
// byte. It returns the end, or 0.
func keyBody(s string, p int, f uint32, minLen int) int {
	e := spanMax(s, p, f, maxKeyBody+1)
	if e-p < minLen || e-p > maxKeyBody || (e < len(s) && isWord(s[e])) {
		return 0
	}
	return e
}

// parseAPIKey checks the well-known key prefixes at s[i:], the word there
// being s[i:j]. It returns the key's end, or 0.
func parseAPIKey(s string, i, j int) int {
	t := s[i:]
	switch s[i] {
	case 's':
		if len(t) > 8 && (t[:8] == "sk_live_" || t[:8] == "sk_test_") {
			return keyBody(s, i+8, cAlnum, 16)
		}
		// Shopify access, shared-secret, custom-app and private-app tokens.
		if len(t) > 6 && t[:3] == "shp" && t[5] == '_' && (t[3:5] == "at" || t[3:5] == "ss" || t[3:5] == "ca" || t[3:5] == "pa") {
			if e := keyBody(s, i+6, cAlnum, 32); e-i-6 == 32 && allHex(s[i+6:e]) {
				return e
			}
		}
		if len(t) > 3 && t[:3] == "sk-" {
			e := keyBody(s, i+3, cB64, 20)
			if e > 0 && mixed(s[i+3:e]) {
				return e
			}
		}
	case 'p':
		if len(t) > 8 && t[:8] == "pk_live_" {
			return keyBody(s, i+8, cAlnum, 16)
		}
		// PyPI API tokens: a macaroon whose base64 starts with the
		// encoding of "pypi.org".
		if len(t) > 20 && t[:20] == "pypi-AgEIcHlwaS5vcmc" {
			return keyBody(s, i+20, cB64, 50)
		}
	case 'r':
		if len(t) > 8 && t[:8] == "rk_live_" {
			return keyBody(s, i+8, cAlnum, 16)
		}
	case 'g':
		if len(t) > 4 && t[0] == 'g' && t[1] == 'h' && t[3] == '_' {
			switch t[2] {
			case 'p', 'o', 'u', 's', 'r':
				return keyBody(s, i+4, cAlnum, 30)
			}
		}
		if len(t) > 11 && t[:11] == "github_pat_" {
			return keyBody(s, i+11, cWord, 22)
		}
		if len(t) > 6 && t[:6] == "glpat-" {
			return keyBody(s, i+6, cB64, 20)
		}
	case 'x':
		if len(t) > 5 && t[:5] == "xapp-" { // Slack app-level tokens
			e := keyBody(s, i+5, cB64, 20)
			if e > 0 && mixed(s[i+5:e]) {
				return e
			}
		}
		if len(t) > 5 && t[:3] == "xox" && t[4] == '-' {
			switch t[3] {
			case 'b', 'p', 'a', 'r':
				e := keyBody(s, i+5, cB64, 10)
				if e > 0 && mixed(s[i+5:e]) {
					return e
				}
			}
		}
	case 'n':
		if len(t) > 4 && t[:4] == "npm_" {
			return keyBody(s, i+4, cAlnum, 30)
		}
	case 'w':
		if len(t) > 6 && t[:6] == "whsec_" { // webhook signing secrets (Stripe, Svix)
			return keyBody(s, i+6, cAlnum, 24)
		}
	case 'd':
		// DigitalOcean personal, OAuth and refresh tokens: 64 hex digits.
		if len(t) > 7 && t[0] == 'd' && t[1] == 'o' && (t[2] == 'p' || t[2] == 'o' || t[2] == 'r') && t[3:7] == "_v1_" {
			if e := keyBody(s, i+7, cAlnum, 64); e-i-7 == 64 && allHex(s[i+7:e]) {
				return e
			}
		}
	case 'h':
		if len(t) > 3 && t[:3] == "hf_" { // Hugging Face: letters only
			if e := keyBody(s, i+3, cUpper|cLower, 30); e > 0 && e-i-3 <= 40 {
				return e
			}
		}
	case 'G':
		if len(t) > 7 && t[:7] == "GOCSPX-" { // Google OAuth client secrets
			if e := keyBody(s, i+7, cB64, 24); e > 0 && e-i-7 <= 40 {
				return e
			}
		}
	case 'A':
		if j-i == 20 && (t[:4] == "AKIA" || t[:4] == "ASIA") {
			for k := i + 4; k < j; k++ {
				if cls[s[k]]&(cUpper|cDigit) == 0 {
					return 0
				}
			}
			return j
		}
		if len(t) >= 39 && t[:4] == "AIza" {
			if e := spanMax(s, i+4, cB64, 36); e-i == 39 {
				return e
			}
		}
	case 'S':
		if len(t) > 3 && t[:3] == "SG." {
			e := spanMax(s, i+3, cB64, maxKeyBody+1)
			if e-i-3 >= 16 && e-i-3 <= maxKeyBody && e+1 < len(s) && s[e] == '.' {
				e2 := spanMax(s, e+1, cB64, maxKeyBody+1)
				if e2-e-1 >= 16 && e2-e-1 <= maxKeyBody {
					return e2
				}
			}
		}
	}
	return 0
}

// mixed reports whether v has both a digit and a letter.
func mixed(v string) bool {
	var seen uint32
	for k := 0; k < len(v); k++ {
		seen |= cls[v[k]]
	}
	return seen&cDigit != 0 && seen&(cUpper|cLower) != 0
}

// parseTelegram parses a Telegram bot token, <bot id>:<secret>, at the ':'
// at s[i]: 5-16 digits before it, then 'A' and 30-40 base64url bytes. It
// returns the token's bounds, or -1, -1.
func parseTelegram(s string, i, floor int) (int, int) {
	d := i
	for d > floor && isDigit(s[d-1]) && i-d <= 16 {
		d--
	}
	if i-d < 5 || i-d > 16 || (d > floor && d > 0 && isDigit(s[d-1])) {
		return -1, -1
	}
	if i+1 >= len(s) || s[i+1] != 'A' {
		return -1, -1
	}
	e := spanMax(s, i+2, cB64, 41)
	if e-i-2 < 30 || e-i-2 > 40 || !mixed(s[i+2:e]) {
		return -1, -1
	}
	return d, e
}
