package pii

import "strings"

// E-mail addresses ([Email] in doc.go).

// parseEmail parses the address around the '@' at s[at]. It returns its
// bounds, or -1.
func parseEmail(s string, at, floor int) (int, int) {
	n := len(s)
	// The local part: at most 64 bytes back, not across "..", starting with
	// an alphanumeric or '_' and not ending with a '.'. (Cutting rather than
	// rejecting keeps the result the same when what comes before changes,
	// as it does when an earlier match is redacted.)
	a := at
	for a > floor && at-a < 64 && cls[s[a-1]]&cLocal != 0 && !(s[a-1] == '.' && a > 1 && s[a-2] == '.') {
		a--
	}
	for a < at && cls[s[a]]&(cAlnum) == 0 && s[a] != '_' {
		a++
	}
	if a == at || s[at-1] == '.' {
		return -1, -1
	}
	// Domain: two or more labels, the last one letters only.
	p := at + 1
	labels := 0
	tld := 0
	for {
		st := p
		for p < n && (isAlnum(s[p]) || s[p] == '-') {
			p++
		}
		if p == st || p-st > 63 || s[st] == '-' || s[p-1] == '-' {
			return -1, -1
		}
		labels++
		tld = st
		if p+1 < n && s[p] == '.' && isAlnum(s[p+1]) {
			p++
			continue
		}
		break
	}
	if labels < 2 || p-at-1 > 253 || p-tld < 2 || p-tld > 24 {
		return -1, -1
	}
	for k := tld; k < p; k++ {
		if cls[s[k]]&(cUpper|cLower) == 0 {
			return -1, -1
		}
	}
	if p < n && (isWord(s[p]) || s[p] == '@') {
		return -1, -1
	}
	if fileExtTLD(s[tld:p]) || scpRemote(s, p) {
		return -1, -1
	}
	return a, p
}

// scpRemote reports whether the host of "user@host" ending at s[p] is
// followed by ":path" with a '/' or ending in ".git": an scp-style git
// remote ("git@github.com:org/repo.git"), not an address.
func scpRemote(s string, p int) bool {
	if p+1 >= len(s) || s[p] != ':' {
		return false
	}
	q := p + 1
	slash := false
	for q < len(s) && (isWord(s[q]) || s[q] == '/' || s[q] == '.' || s[q] == '-' || s[q] == '~') {
		slash = slash || s[q] == '/'
		q++
	}
	return q > p+1 && (slash || strings.HasSuffix(s[p+1:q], ".git"))
}

// fileExtTLD reports whether tld is a file extension that makes "a@b.ext"
// an asset name ("icon@2x.png") rather than an address.
func fileExtTLD(tld string) bool {
	if len(tld) > 4 {
		return false
	}
	var b [4]byte
	for i := 0; i < len(tld); i++ {
		b[i] = lower(tld[i])
	}
	switch string(b[:len(tld)]) {
	case "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "tif", "tiff", "avif", "heic",
		"js", "mjs", "css", "map", "json", "html", "htm", "txt", "xml", "yml", "yaml", "pdf", "wasm":
		return true
	}
	return false
}
