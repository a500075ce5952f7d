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

// Group values of nestedPattern and memberInfo that are not a group bit
// index.
const (
	noGroup = -1 // no nested pattern matches the member
	ipGroup = -2 // an IP pattern, not a group pattern
)

// nestedPattern reaches inside a map attribute: sub applies to its keys.
type nestedPattern struct {
	sub   pattern
	group int // group bit index, or ipGroup for an IP attribute
}

// keyInfo is everything the processor needs to know about one attribute
// key, computed once per key and cached.
type keyInfo struct {
	groups uint64 // groups whose patterns match the key itself
	nested []nestedPattern
	id     int // index into the pseudonymised identifiers, or -1
	// slot is the key's bit in stats.ids when it is an identifier (a
	// pseudonymised one, or the forget key), else -1.
	slot      int
	forget    bool // the key forget requests are checked against
	ip        bool
	sensitive bool
	version   bool // a version: not scanned for IP addresses
	skip      bool
	consent   bool
	// members caches what the nested patterns decide for each member key.
	members cache[memberInfo]
}

// memberInfo is what nested patterns decide for one member of a map
// attribute.
type memberInfo struct {
	group int // the first matching pattern's group bit index, noGroup or ipGroup
	nameInfo
}

// nameInfo is what a map member's own name says about its value.
type nameInfo struct {
	sensitive bool // the name names PII
	version   bool // the name names a version
}

// cache is a lock-free read, copy-on-write map that stops growing at
// maxCachedKeys, so hostile key names cannot grow memory.
type cache[V any] struct {
	mu sync.Mutex
	m  atomic.Pointer[map[string]V]
}

func (c *cache[V]) get(k string, compute func(string) V) V {
	if m := c.m.Load(); m != nil {
		if v, ok := (*m)[k]; ok {
			return v
		}
	}
	v := compute(k)
	c.mu.Lock()
	defer c.mu.Unlock()
	var old map[string]V
	if m := c.m.Load(); m != nil {
		old = *m
	}
	if len(old) < maxCachedKeys {
		next := make(map[string]V, len(old)+1)
		for kk, vv := range old {
			next[kk] = vv
		}
		next[strings.Clone(k)] = v
		c.m.Store(&next)
	}
	return v
}

// keyTable computes and caches keyInfo. Reads are lock-free; the cache
// stops growing at maxCachedKeys so hostile key names cannot grow memory.
type keyTable struct {
	consentAttr string
	ids         map[string]int
	nIDs        int
	forgetKey   string      // "" without forget
	groups      [][]pattern // by group bit index
	ip          []pattern
	skip        []pattern
	sensitive   map[string]struct{} // normalised names
	personNS    map[string]struct{}

	keys  cache[*keyInfo]
	names cache[nameInfo] // member names
}

const maxCachedKeys = 4096

// personNamespaces are the key prefixes under which a sensitive last
// segment (user.email, customer.phone) marks the key as PII. Keys in other
// namespaces (service.name, host.name) are left alone.
var personNamespaces = []string{"user", "enduser", "customer", "person", "contact", "account", "profile", "billing", "shipping", "client", "pulse"}

// newKeyTable compiles the key rules. ids are the pseudonymised identifier
// keys, forgetKey the key forget requests are checked against ("" for none).
func newKeyTable(consentAttr string, ids []string, forgetKey string, groups [][]string, ip, skip, sensitive []string) *keyTable {
	t := &keyTable{
		consentAttr: consentAttr,
		nIDs:        len(ids),
		forgetKey:   forgetKey,
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

// isVersionName reports whether a key names a version: "version", or a key
// ending in ".version", "_version" or "-version" (any case), or a camelCase
// "...Version" ("appVersion", "osVersion"). A separator or the capital is
// required: "conversion" and "subversion" are not versions.
func isVersionName(k string) bool {
	const v = "version"
	n := len(k) - len(v)
	if n < 0 || !strings.EqualFold(k[n:], v) {
		return false
	}
	if n == 0 {
		return true
	}
	switch c := k[n-1]; {
	case c == '.' || c == '_' || c == '-':
		return true
	case k[n] == 'V' && k[n+1:] == "ersion":
		return c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
	}
	return false
}

// get returns the keyInfo of a top-level attribute key.
func (t *keyTable) get(k string) *keyInfo { return t.keys.get(k, t.compute) }

// memberName returns what a map member's name says about its value.
func (t *keyTable) memberName(name string) nameInfo { return t.names.get(name, t.name) }

func (t *keyTable) name(k string) nameInfo {
	return nameInfo{sensitive: t.isSensitiveName(k), version: isVersionName(k)}
}

// member returns what the nested patterns of ki decide for member key k.
func (t *keyTable) member(ki *keyInfo, k string) memberInfo {
	return ki.members.get(k, func(k string) memberInfo {
		mi := memberInfo{group: noGroup, nameInfo: t.name(k)}
		for _, np := range ki.nested {
			if np.sub.match(k) {
				mi.group = np.group
				break
			}
		}
		return mi
	})
}

func (t *keyTable) compute(k string) *keyInfo {
	ki := &keyInfo{id: -1, slot: -1, consent: k == t.consentAttr, version: isVersionName(k)}
	if i, ok := t.ids[k]; ok {
		ki.id, ki.slot = i, i
	}
	if t.forgetKey != "" && k == t.forgetKey {
		ki.forget = true
		if ki.slot < 0 {
			ki.slot = t.nIDs
		}
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
			ki.nested = append(ki.nested, nestedPattern{sub: pattern{s: sub, prefix: p.prefix}, group: ipGroup})
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
