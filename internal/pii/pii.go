package pii

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Type is a kind of PII the scanner finds.
type Type uint8

// The types the scanner reports. doc.go says what each one matches.
const (
	Email       Type = iota + 1
	Phone            // international (+CC ...) and common national formats with separators
	CreditCard       // 13-19 digits, optional space/dash groups, Luhn-valid, known IIN prefixes
	IBAN             // country code + check digits + BBAN, mod-97 valid, with or without spaces
	IPv4             // dotted quad, every octet 0-255
	IPv6             // 8 groups, or fewer with one "::"; embedded IPv4 tail allowed
	SSN              // US: AAA-GG-SSSS with dashes (or spaces), valid area, group and serial
	JWT              // three (or five, JWE) base64url segments, the first starting with eyJ
	BearerToken      // "Bearer <token>": the token part is the match
	APIKey           // well-known vendor key prefixes
	URLSecret        // URL userinfo credentials, URL path secrets, or the value of a secret-like parameter
	MACAddress       // six hex octets: colon, dash or dotted (Cisco) form
	IMEI             // 15-digit Luhn-valid device identifier with a known reporting-body prefix
	Secret           // a credential named by its key or scheme: key=value, key: value, Basic, Token, x-api-key
	Custom           // user-defined patterns (Options.Custom)
)

var typeNames = [...]string{
	Email:       "email",
	Phone:       "phone",
	CreditCard:  "credit_card",
	IBAN:        "iban",
	IPv4:        "ipv4",
	IPv6:        "ipv6",
	SSN:         "ssn",
	JWT:         "jwt",
	BearerToken: "bearer_token",
	APIKey:      "api_key",
	URLSecret:   "url_secret",
	MACAddress:  "mac_address",
	IMEI:        "imei",
	Secret:      "secret",
	Custom:      "custom",
}

// String returns the type's configuration name, e.g. "credit_card".
func (t Type) String() string {
	if t >= Email && t <= Custom {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// validTypeNames lists every name ParseType accepts, for error messages.
var validTypeNames = func() string {
	names := make([]string, 0, len(typeNames))
	for t := Email; t <= Custom; t++ {
		names = append(names, typeNames[t])
	}
	return strings.Join(names, ", ")
}()

// ParseType is the inverse of String. It ignores surrounding spaces and
// ASCII case.
func ParseType(s string) (Type, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for t := Email; t <= Custom; t++ {
		if typeNames[t] == name {
			return t, nil
		}
	}
	return 0, fmt.Errorf("pii: unknown type %q (valid: %s)", s, validTypeNames)
}

// AllTypes returns the built-in types (every type but Custom), in order. The
// slice is new on every call.
func AllTypes() []Type {
	return []Type{Email, Phone, CreditCard, IBAN, IPv4, IPv6, SSN, JWT, BearerToken, APIKey, URLSecret, MACAddress, IMEI, Secret}
}

// Pattern is a user-defined pattern. Regex is RE2 syntax (package regexp);
// it must compile and must not match the empty string.
type Pattern struct {
	Name  string
	Regex string
}

// Options configures a Scanner.
type Options struct {
	// Types are the enabled built-in types; nil means all of them, an empty
	// non-nil slice none (only Custom patterns run). Custom may appear and is
	// ignored: custom patterns are enabled by listing them in Custom.
	Types []Type
	// Custom are user-defined patterns, reported as Type Custom with
	// Match.Pattern the index into this slice.
	Custom []Pattern
	// SecretParams are query, fragment and parameter-list names whose
	// values are secrets (URLSecret), beyond the built-in list doc.go
	// gives. Case is ignored and '-' is read as '_'.
	SecretParams []string
}

// Match is one piece of PII found in a scanned string.
type Match struct {
	Type       Type
	Start, End int // byte offsets into the scanned string, End exclusive
	Pattern    int // index into Options.Custom when Type == Custom, else -1
}

// Scanner finds PII in strings. It is immutable after New and safe for
// concurrent use.
type Scanner struct {
	enabled uint32 // bit t set when built-in type t is on
	custom  []*regexp.Regexp
	params  map[string]bool // Options.SecretParams, normalised; nil when none
}

// New returns a Scanner for opts. Its errors name the bad type or pattern.
func New(opts Options) (*Scanner, error) {
	sc := &Scanner{}
	if opts.Types == nil {
		for _, t := range AllTypes() {
			sc.enabled |= 1 << t
		}
	}
	for i, t := range opts.Types {
		switch {
		case t >= Email && t < Custom:
			sc.enabled |= 1 << t
		case t == Custom:
		default:
			return nil, fmt.Errorf("pii: Options.Types[%d]: unknown type %s (valid: %s)", i, t, validTypeNames)
		}
	}
	for i, name := range opts.SecretParams {
		k := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "-", "_")
		if k == "" || len(k) > 24 {
			return nil, fmt.Errorf("pii: Options.SecretParams[%d]: a name of 1 to 24 bytes, got %d", i, len(k))
		}
		for x := 0; x < len(k); x++ {
			if cls[k[x]]&cPName == 0 {
				return nil, fmt.Errorf("pii: Options.SecretParams[%d]: byte %d is not a letter, digit, '_', '.' or '-'", i, x)
			}
		}
		if sc.params == nil {
			sc.params = map[string]bool{}
		}
		sc.params[k] = true
	}
	for i, p := range opts.Custom {
		if p.Regex == "" {
			return nil, fmt.Errorf("pii: custom pattern %d (%q): empty regex", i, p.Name)
		}
		re, err := regexp.Compile(p.Regex)
		if err != nil {
			return nil, fmt.Errorf("pii: custom pattern %d (%q): %w", i, p.Name, err)
		}
		if re.MatchString("") {
			return nil, fmt.Errorf("pii: custom pattern %d (%q): regex %q matches the empty string", i, p.Name, p.Regex)
		}
		sc.custom = append(sc.custom, re)
	}
	return sc, nil
}

func (sc *Scanner) on(t Type) bool { return sc.enabled&(1<<t) != 0 }

// Scan appends the PII found in s to dst, sorted by Start and
// non-overlapping, and returns dst. Where two candidates overlap, the more
// specific one is kept: URLSecret, JWT, APIKey and BearerToken (in that order
// for equal spans) over Email, and Email over the others; within the same
// tier the longer one wins. Scan does not allocate when s holds no PII, nor
// when dst has room for what it finds (custom patterns aside: package regexp
// allocates for each match). It is safe for concurrent use.
func (sc *Scanner) Scan(dst []Match, s string) []Match {
	if sc == nil {
		return dst
	}
	base := len(dst)
	// Custom patterns run first: the built-in scanner treats their matches
	// as PII, not context (see scanBuiltins).
	for idx, re := range sc.custom {
		// FindAllStringIndex allocates only when something matched.
		for _, loc := range re.FindAllStringIndex(s, -1) {
			if loc[1] > loc[0] {
				dst = append(dst, Match{Type: Custom, Start: loc[0], End: loc[1], Pattern: idx})
			}
		}
	}
	if len(sc.custom) > 1 {
		slices.SortFunc(dst[base:], func(a, b Match) int { return a.Start - b.Start })
	}
	if sc.enabled != 0 {
		var norm bool
		dst, norm = sc.scanBuiltins(dst, s, dst[base:])
		if norm {
			dst = sc.scanNormalized(dst, s)
		}
	}
	if len(dst)-base > 1 {
		dst = resolve(dst, base)
	}
	if len(dst) > base {
		dst = repeatSecrets(dst, base, s)
	}
	return dst
}

// repeatSecrets adds the other occurrences in s of each credential found
// (tier 2 types, 6 bytes or more): "my password is Sommer2024! ...
// password: Sommer2024!" names the secret by its key once, and the mask
// must cover it everywhere. Only strings with a match pay for this.
func repeatSecrets(dst []Match, base int, s string) []Match {
	n := len(dst)
	for k := base; k < n; k++ {
		m := dst[k]
		if tier(m.Type) < 2 || m.End-m.Start < 6 {
			continue
		}
		v := s[m.Start:m.End]
		for from := 0; from < len(s); {
			x := strings.Index(s[from:], v)
			if x < 0 {
				break
			}
			st := from + x
			if st != m.Start {
				dst = append(dst, Match{Type: m.Type, Start: st, End: st + len(v), Pattern: m.Pattern})
			}
			from = st + len(v)
		}
	}
	if len(dst) > n {
		dst = resolve(dst, base)
	}
	return dst
}

// tier orders types for overlap resolution: a higher tier always wins.
func tier(t Type) int {
	switch t {
	case URLSecret, JWT, APIKey, BearerToken, Secret:
		return 2
	case Email:
		return 1
	}
	return 0
}

// rank breaks ties between equal spans of the same tier.
func rank(t Type) int {
	switch t {
	case URLSecret:
		return 5
	case JWT:
		return 4
	case APIKey:
		return 3
	case BearerToken:
		return 2
	case Secret:
		return 1
	}
	return 0
}

// beats reports whether a should be kept over the overlapping b.
func beats(a, b Match) bool {
	if ta, tb := tier(a.Type), tier(b.Type); ta != tb {
		return ta > tb
	}
	if la, lb := a.End-a.Start, b.End-b.Start; la != lb {
		return la > lb
	}
	return rank(a.Type) > rank(b.Type)
}

// resolve sorts dst[base:] by Start and drops overlapping matches, keeping
// the winner of each overlap.
func resolve(dst []Match, base int) []Match {
	m := dst[base:]
	slices.SortFunc(m, func(a, b Match) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		if a.End != b.End {
			return b.End - a.End
		}
		if ra, rb := rank(a.Type), rank(b.Type); ra != rb {
			return rb - ra
		}
		return a.Pattern - b.Pattern
	})
	w := 0
	for _, x := range m {
		if w > 0 && x.Start < m[w-1].End {
			if beats(x, m[w-1]) {
				m[w-1] = x
			}
			continue
		}
		m[w] = x
		w++
	}
	return dst[:base+w]
}

// Redact returns s with each match replaced by repl(m, s[m.Start:m.End]).
// matches must be sorted by Start and non-overlapping, as Scan returns them;
// a match that overlaps an earlier one or lies outside s is skipped. A nil
// repl replaces each match with "[" + m.Type.String() + "]". Redact returns
// s itself, without allocating, when matches is empty.
func Redact(s string, matches []Match, repl func(m Match, value string) string) string {
	if len(matches) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, m := range matches {
		if m.Start < last || m.End < m.Start || m.End > len(s) {
			continue
		}
		b.WriteString(s[last:m.Start])
		if repl == nil {
			b.WriteByte('[')
			b.WriteString(m.Type.String())
			b.WriteByte(']')
		} else {
			b.WriteString(repl(m, s[m.Start:m.End]))
		}
		last = m.End
	}
	b.WriteString(s[last:])
	return b.String()
}
