package privacyprocessor

import (
	"strings"
	"sync"
	"sync/atomic"
)

// pattern is a key pattern: an exact key or a prefix ending in "*".
type pattern struct {
	s      string
	prefix bool
}

func parsePattern(s string) pattern {
	if strings.HasSuffix(s, "*") {
		return pattern{s: strings.TrimSuffix(s, "*"), prefix: true}
	}
	return pattern{s: s}
}

func (p pattern) match(k string) bool {
	if p.prefix {
		return strings.HasPrefix(k, p.s)
	}
	return k == p.s
}

// nestedPattern reaches inside a map attribute: sub applies to its keys.
type nestedPattern struct {
	sub   pattern
	group int // group bit index, or -1 for an IP attribute
}

// keyInfo is everything the processor needs to know about one attribute
// key, computed once per key and cached.
type keyInfo struct {
	groups    uint64 // groups whose patterns match the key itself
	nested    []nestedPattern
	id        int // index into the identifier list, or -1
	ip        bool
	sensitive bool
	skip      bool
	consent   bool
}

// keyTable computes and caches keyInfo. Reads are lock-free; the cache
// stops growing at maxCachedKeys so hostile key names cannot grow memory.
type keyTable struct {
	consentAttr string
	ids         map[string]int
	groups      [][]pattern // by group bit index
	ip          []pattern
	skip        []pattern
	sensitive   map[string]struct{} // normalised names
	personNS    map[string]struct{}

	mu    sync.Mutex
	cache atomic.Pointer[map[string]*keyInfo]
}

const maxCachedKeys = 4096

// personNamespaces are the key prefixes under which a sensitive last
// segment (user.email, customer.phone) marks the key as PII. Keys in other
// namespaces (service.name, host.name) are left alone.
var personNamespaces = []string{"user", "enduser", "customer", "person", "contact", "account", "profile", "billing", "shipping", "client", "pulse"}

func newKeyTable(consentAttr string, ids []string, groups [][]string, ip, skip, sensitive []string) *keyTable {
	t := &keyTable{
		consentAttr: consentAttr,
		ids:         map[string]int{},
		sensitive:   map[string]struct{}{},
		personNS:    map[string]struct{}{},
	}
	for i, id := range ids {
		t.ids[id] = i
	}
	for _, g := range groups {
		ps := make([]pattern, 0, len(g))
		for _, s := range g {
			ps = append(ps, parsePattern(s))
		}
		t.groups = append(t.groups, ps)
	}
	for _, s := range ip {
		t.ip = append(t.ip, parsePattern(s))
	}
	for _, s := range skip {
		t.skip = append(t.skip, parsePattern(s))
	}
	for _, s := range sensitive {
		var buf [64]byte
		t.sensitive[string(normalize(buf[:0], s))] = struct{}{}
	}
	for _, ns := range personNamespaces {
		t.personNS[ns] = struct{}{}
	}
	empty := map[string]*keyInfo{}
	t.cache.Store(&empty)
	return t
}

// normalize lower-cases s and drops '_', '-' and '.' into dst.
func normalize(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || c == '-' || c == ' ':
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// isSensitiveName reports whether a single key segment names PII.
func (t *keyTable) isSensitiveName(name string) bool {
	if len(name) > 48 {
		return false
	}
	var buf [64]byte
	_, ok := t.sensitive[string(normalize(buf[:0], name))]
	return ok
}

// get returns the keyInfo of a top-level attribute key.
func (t *keyTable) get(k string) *keyInfo {
	if ki, ok := (*t.cache.Load())[k]; ok {
		return ki
	}
	ki := t.compute(k)
	t.mu.Lock()
	old := *t.cache.Load()
	if len(old) < maxCachedKeys {
		next := make(map[string]*keyInfo, len(old)+1)
		for kk, vv := range old {
			next[kk] = vv
		}
		next[k] = ki
		t.cache.Store(&next)
	}
	t.mu.Unlock()
	return ki
}

func (t *keyTable) compute(k string) *keyInfo {
	ki := &keyInfo{id: -1, consent: k == t.consentAttr}
	if i, ok := t.ids[k]; ok {
		ki.id = i
	}
	for g, ps := range t.groups {
		for _, p := range ps {
			if p.match(k) {
				ki.groups |= 1 << g
			} else if sub, ok := strings.CutPrefix(p.s, k+"."); ok {
				ki.nested = append(ki.nested, nestedPattern{sub: pattern{s: sub, prefix: p.prefix}, group: g})
			}
		}
	}
	for _, p := range t.ip {
		if p.match(k) {
			ki.ip = true
		} else if sub, ok := strings.CutPrefix(p.s, k+"."); ok {
			ki.nested = append(ki.nested, nestedPattern{sub: pattern{s: sub, prefix: p.prefix}, group: -1})
		}
	}
	for _, p := range t.skip {
		if p.match(k) {
			ki.skip = true
		}
	}
	last := k
	if i := strings.LastIndexByte(k, '.'); i >= 0 {
		last = k[i+1:]
		first, _, _ := strings.Cut(k, ".")
		if _, ok := t.personNS[first]; !ok {
			return ki
		}
	}
	ki.sensitive = ki.id < 0 && !ki.consent && t.isSensitiveName(last)
	return ki
}
