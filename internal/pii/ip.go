package pii

import "strings"

// IPv4 and IPv6 addresses ([IPv4], [IPv6] in doc.go).

// parseIPv4 parses a dotted quad at s[i:] (octets 0-255, no leading zeros)
// and returns its end, or 0. It does not check what follows.
func parseIPv4(s string, i int) int {
	n := len(s)
	p := i
	for g := 0; g < 4; g++ {
		if g > 0 {
			if p >= n || s[p] != '.' {
				return 0
			}
			p++
		}
		st := p
		v := 0
		for p < n && p-st < 3 && isDigit(s[p]) {
			v = v*10 + int(s[p]-'0')
			p++
		}
		if p == st || v > 255 || (p-st > 1 && s[st] == '0') || (p < n && isDigit(s[p])) {
			return 0
		}
	}
	return p
}

// ipv4EndOK reports whether an IPv4 address may end at s[e]: not inside a
// word, not followed by a fifth number, and not followed by '-' and a digit
// unless that starts the second address of a range ("10.0.0.1-10.0.0.9").
func ipv4EndOK(s string, e int) bool {
	if e+1 >= len(s) {
		return e == len(s) || !isWord(s[e])
	}
	switch c := s[e]; {
	case isWord(c):
		return false
	case c == '.' && isDigit(s[e+1]):
		return false
	case c == '-' && isDigit(s[e+1]):
		return parseIPv4(s, e+1) > 0
	}
	return true
}

// ipv4RangeEnd reports whether s[i:] follows "a.b.c.d-": it may be the
// second address of a range.
func ipv4RangeEnd(s string, i int) bool {
	if i < 8 || s[i-1] != '-' {
		return false
	}
	k := i - 1
	for k > 0 && i-1-k < 15 && (isDigit(s[k-1]) || s[k-1] == '.') {
		k--
	}
	for k < i-1 && !isDigit(s[k]) {
		k++
	}
	return parseIPv4(s, k) == i-1
}

// ipv4ContextOK rejects dotted quads that are versions or outline numbers
// by the word before them: a word that contains "version" (versionName,
// AssemblyVersion, CFBundleShortVersionString, os_version), starts with
// "build" (buildNumber), or is v, ver, release, firmware, fw, rev,
// revision, update(d), upgrade(d), chapter or section, possibly followed
// by "to" or "from" ("updated to 3.1.0.245"); or a product token in a user
// agent ("Chrome/120.0.0.0").
func ipv4ContextOK(s string, i, floor int) bool {
	k := i
	if k > 0 && s[k-1] == '/' {
		// "Chrome/120.0.0.0": a product name right before the '/'.
		e := k - 1
		b := e
		for b > floor && isAlnum(s[b-1]) {
			b--
		}
		if b < e && isUpper(s[b]) && (b == 0 || s[b-1] == ' ' || s[b-1] == '(' || s[b-1] == ';') {
			return false
		}
		// A path segment naming versions: "/release/5.0.2.1/notes",
		// "/versions/1.0.0.0".
		return !versionWord(strings.TrimSuffix(s[b:e], "s"))
	}
	for word := 0; word < 3; word++ {
		for skipped := 0; k > floor && skipped < 5; skipped++ {
			c := s[k-1]
			if c != ' ' && c != '\t' && c != ':' && c != '=' && c != '"' && c != '\'' && c != '.' && c != '(' {
				break
			}
			k--
		}
		if k > floor && s[k-1] >= 0x80 {
			for _, v := range versionWords {
				if strings.HasSuffix(s[floor:k], v) {
					return false
				}
			}
			return true
		}
		e := k
		for k > floor && cls[s[k-1]]&(cUpper|cLower) != 0 {
			k--
		}
		w := s[k:e]
		if versionWord(w) {
			return false
		}
		if len(w) > 4 {
			return true
		}
		var b [4]byte
		for x := 0; x < len(w); x++ {
			b[x] = lower(w[x])
		}
		switch string(b[:len(w)]) {
		case "to", "from":
			if word < 2 && k > floor && s[k-1] == ' ' {
				k--
				// "from 4.1.0.7 to 4.2.0.0": the number before "to"
				// is read past, and the word before it decides.
				if word == 0 && k > floor && isDigit(s[k-1]) {
					for k > floor && (isDigit(s[k-1]) || s[k-1] == '.') {
						k--
					}
				}
				continue
			}
		}
		return true
	}
	return true
}

// versionWord reports whether the word w, before a dotted quad, names a
// version or an outline number (see ipv4ContextOK).
func versionWord(w string) bool {
	if containsFold(w, "version") || hasPrefixFold(w, "build") {
		return true
	}
	if len(w) > 9 {
		return false
	}
	var b [9]byte
	for x := 0; x < len(w); x++ {
		b[x] = lower(w[x])
	}
	switch string(b[:len(w)]) {
	case "v", "ver", "release", "firmware", "fw", "rev", "revision", "update", "updated", "upgrade", "upgraded", "chapter", "section":
		return true
	}
	return false
}

// ipv4NotHost reports whether the dotted quad s[i:e] names no host: the
// unspecified address 0.0.0.0; a network block, the address followed by a
// prefix length below 32 with every host bit zero ("10.0.0.0/16"; a host
// in prefix notation such as "192.0.2.17/24" is still an address); or a
// version, followed by a pre-release suffix ("2.1.0.3-rc1") or by the
// word release, changelog or build.
func ipv4NotHost(s string, i, e int) bool {
	n := len(s)
	if s[i:e] == "0.0.0.0" {
		return true
	}
	if e+1 < n && s[e] == '/' && isDigit(s[e+1]) {
		p := e + 1
		bits := 0
		for p < n && p-e <= 2 && isDigit(s[p]) {
			bits = bits*10 + int(s[p]-'0')
			p++
		}
		if bits < 32 && (p >= n || !isDigit(s[p])) {
			var a, o uint32
			for x := i; x < e; x++ {
				if s[x] == '.' {
					a, o = a<<8|o, 0
				} else {
					o = o*10 + uint32(s[x]-'0')
				}
			}
			a = a<<8 | o
			if a<<bits == 0 {
				return true
			}
		}
		return false
	}
	if e+1 < n && s[e] == '-' && cls[s[e+1]]&(cUpper|cLower) != 0 {
		return true
	}
	if e+1 < n && s[e] == ' ' {
		t := s[e+1:]
		return hasPrefixFold(t, "release") || hasPrefixFold(t, "changelog") || hasPrefixFold(t, "build")
	}
	return false
}

// versionWords are "version" in other languages, as they end before a
// version number.
var versionWords = []string{
	"版本", "版", "バージョン", "버전", "версии", "версия", "версию", "Версия",
	"versión", "versão", "sürüm", "wersja", "έκδοση",
}

// ipv6StartOK reports whether an IPv6 address may start at s[i]: not inside
// a word, and not right after a ':' or '.' (the tail of a longer, invalid
// address such as "1::2::3").
func ipv6StartOK(s string, i int) bool {
	if i == 0 {
		return true
	}
	c := s[i-1]
	return !isWord(c) && c != ':' && c != '.'
}

// parseIPv6 parses an IPv6 address at s[i:] (a hex digit or "::"): eight
// groups of 1-4 hex digits, or fewer with one "::", the last two groups
// possibly an IPv4 address. It returns the end, or 0.
func parseIPv6(s string, i int) int {
	n := len(s)
	p := i
	groups := 0
	dbl := false
	leading := false
	firstLen := 0
	if p+1 < n && s[p] == ':' && s[p+1] == ':' {
		dbl, leading = true, true
		p += 2
	}
	for p < n {
		st := p
		for p < n && p-st <= 4 && isHex(s[p]) {
			p++
		}
		gl := p - st
		if gl == 0 {
			break
		}
		if gl > 4 {
			return 0
		}
		if p+1 < n && s[p] == '.' && isDigit(s[p+1]) {
			e := parseIPv4(s, st)
			if e == 0 || groups > 6 {
				return 0
			}
			groups += 2
			p = e
			break
		}
		groups++
		if groups == 1 {
			firstLen = gl
		}
		if p+1 < n && s[p] == ':' {
			if s[p+1] == ':' {
				if dbl {
					break
				}
				dbl = true
				p += 2
				continue
			}
			if isHex(s[p+1]) {
				p++
				continue
			}
		}
		break
	}
	switch {
	case groups == 0 || groups > 8:
		return 0
	case !dbl && groups != 8:
		return 0
	case dbl && groups > 7:
		return 0
	case dbl && !leading && firstLen < 2:
		return 0
	}
	if p < n && (isWord(s[p]) || (s[p] == ':' && p+1 < n && s[p+1] == ':') || (s[p] == '.' && p+1 < n && isDigit(s[p+1]))) {
		return 0
	}
	return p
}
