package privacyprocessor // import "github.com/pulse-otel/pulse/processor/privacyprocessor"

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/maphash"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"

	"github.com/pulse-otel/pulse/extension/forgetextension"
	"github.com/pulse-otel/pulse/internal/pii"
	"github.com/pulse-otel/pulse/internal/receipt"
	"github.com/pulse-otel/pulse/internal/schema"
)

// Attributes the processor writes.
const (
	AttrKeyID    = "pulse.privacy.key_id"
	AttrMasked   = "pulse.privacy.masked"
	AttrRemoved  = "pulse.privacy.removed"
	AttrDecision = "pulse.privacy.decision"
)

type action uint8

const (
	actOff action = iota
	actMask
	actHash
	actDropAttr
	actDropEvent
)

func parseAction(s string) action {
	switch s {
	case actionMask:
		return actMask
	case actionHash:
		return actHash
	case actionDropAttribute:
		return actDropAttr
	case actionDropEvent:
		return actDropEvent
	}
	return actOff
}

// dropReason says why a record was dropped. Of the reasons found while
// walking a record's attributes the last one listed wins (stats.dropFor).
type dropReason uint8

const (
	keep dropReason = iota
	dropConsentEventType
	dropConsentCategory
	dropConsentViolation
	dropPII
	// dropInvalidIdentifier: an identifier attribute that is neither a
	// string nor an integer, so it names no user (bool, map, slice, bytes,
	// empty, a double with a fraction or beyond the int64 range).
	dropInvalidIdentifier
	// dropDuplicateIdentifier: an identifier key twice in one map (possible
	// in OTLP data), so that no copy can act as a decoy for the other.
	dropDuplicateIdentifier
	dropForgotten
	numDropReasons
)

var dropReasonNames = [numDropReasons]string{"", "consent_event_type", "consent_category", "consent_violation", "pii", "invalid_identifier", "duplicate_identifier", "forgotten"}

// byIdentifier reports whether r is a reason an identifier gave: the reasons
// a resource's attributes pass on to every record under it.
func (r dropReason) byIdentifier() bool { return r >= dropInvalidIdentifier }

// reported says whether the client that sent a dropped record is told why.
// Every reason but forgotten follows from the record itself; telling a
// client that a user's events are dropped because they asked to be
// forgotten would tell anyone holding an ingest key who asked.
func (r dropReason) reported() bool { return r != keep && r != dropForgotten }

// level is a compiled consent level.
type level struct {
	idx        int
	name       string
	eventTypes map[string]struct{} // nil allows all
	categories map[string]struct{} // nil allows all
	ids        uint64              // identifiers kept
	denied     uint64              // groups removed
}

type privacyProcessor struct {
	cfg     *Config
	set     processor.Settings
	keys    *keyTable
	levels  []*level // by schema.ConsentLevels order
	scanner *pii.Scanner
	// verScanner is scanner without the IP detectors, for version values:
	// "1.2.3.4" is a version there, not an address.
	verScanner *pii.Scanner
	typeAct    [pii.Custom + 1]action
	custAct    []action
	maskStr    [pii.Custom + 1]string
	custStr    []string
	piiKeys    cache[bool] // whether a map or attribute key holds PII, see keyHasPII
	sensAct    action
	ipDrop     bool
	drop       bool // consent on_violation: drop
	hasher     *hasher
	forget     forgetextension.Forgetter
	tel        *telemetry
}

func newPrivacyProcessor(set processor.Settings, cfg *Config) (*privacyProcessor, error) {
	p := &privacyProcessor{cfg: cfg, set: set, ipDrop: cfg.IP.Action == "drop", drop: cfg.Consent.OnViolation == "drop"}

	groupNames := sortedKeys(cfg.Consent.Groups)
	if len(groupNames) > 64 {
		return nil, fmt.Errorf("consent.groups: at most 64 groups, got %d", len(groupNames))
	}
	groups := make([][]string, len(groupNames))
	for i, g := range groupNames {
		groups[i] = cfg.Consent.Groups[g]
	}
	forgetKey := ""
	if cfg.Forget != (component.ID{}) {
		forgetKey = schema.AttrUserID
	}
	p.keys = newKeyTable(cfg.Consent.Attribute, cfg.Pseudonymize.Attributes, forgetKey, groups, cfg.IP.Attributes, cfg.PII.Skip, cfg.PII.SensitiveKeys)
	for i, name := range schema.ConsentLevels {
		pol := cfg.Consent.Levels[name]
		l := &level{idx: i, name: name}
		if len(pol.EventTypes) > 0 {
			l.eventTypes = setOf(pol.EventTypes)
		}
		if len(pol.Categories) > 0 {
			l.categories = setOf(pol.Categories)
		}
		for _, id := range pol.Identifiers {
			if j := slices.Index(cfg.Pseudonymize.Attributes, id); j >= 0 {
				l.ids |= 1 << j
			}
		}
		for g, gname := range groupNames {
			if !slices.Contains(pol.Groups, gname) {
				l.denied |= 1 << g
			}
		}
		p.levels = append(p.levels, l)
	}

	opts := pii.Options{}
	for _, t := range pii.AllTypes() {
		a := cfg.PII.DefaultAction
		if v, ok := cfg.PII.Actions[t.String()]; ok {
			a = v
		}
		p.typeAct[t] = parseAction(a)
		p.maskStr[t] = schema.RedactedMarker + ":" + t.String() + "]"
		if p.typeAct[t] != actOff {
			opts.Types = append(opts.Types, t)
		}
	}
	for _, c := range cfg.PII.Custom {
		opts.Custom = append(opts.Custom, pii.Pattern{Name: c.Name, Regex: c.Regex})
		p.custAct = append(p.custAct, parseAction(c.Action))
		p.custStr = append(p.custStr, schema.RedactedMarker+":"+c.Name+"]")
	}
	if len(opts.Types) == 0 {
		opts.Types = []pii.Type{} // none enabled; nil would mean all
	}
	opts.SecretParams = cfg.PII.SecretParams
	var err error
	if p.scanner, err = pii.New(opts); err != nil {
		return nil, fmt.Errorf("pii: %w", err)
	}
	opts.Types = slices.DeleteFunc(slices.Clone(opts.Types), func(t pii.Type) bool { return t == pii.IPv4 || t == pii.IPv6 })
	if p.verScanner, err = pii.New(opts); err != nil {
		return nil, fmt.Errorf("pii: %w", err)
	}
	p.sensAct = parseAction(cfg.PII.SensitiveKeyAction)

	if len(cfg.Pseudonymize.Attributes) > 0 || usesHash(cfg.PII) {
		key, err := cfg.Pseudonymize.loadKey()
		if err != nil {
			return nil, err
		}
		p.hasher = newHasher(key, cfg.Pseudonymize.Bytes)
	}
	if p.tel, err = newTelemetry(set.TelemetrySettings); err != nil {
		return nil, err
	}
	return p, nil
}

func setOf(vals []string) map[string]struct{} {
	m := make(map[string]struct{}, len(vals))
	for _, v := range vals {
		m[v] = struct{}{}
	}
	return m
}

func (p *privacyProcessor) start(_ context.Context, host component.Host) error {
	if p.cfg.Forget == (component.ID{}) {
		return nil
	}
	ext, ok := host.GetExtensions()[p.cfg.Forget]
	if !ok {
		return fmt.Errorf("forget: extension %q is not configured in service.extensions", p.cfg.Forget)
	}
	f, ok := ext.(forgetextension.Forgetter)
	if !ok {
		return fmt.Errorf("forget: extension %q is not a forget extension", p.cfg.Forget)
	}
	p.forget = f
	return nil
}

// hasher computes the truncated, hex-encoded HMAC-SHA256 of identifiers,
// remembering recent results: the same users, sessions and devices come
// back batch after batch, and a lookup costs a twentieth of an HMAC.
type hasher struct {
	pool  sync.Pool
	bytes int
	// recent is a direct-mapped cache of the last identifier hashed per
	// slot, lock-free: a slot holds an immutable entry, replaced whole.
	recent []atomic.Pointer[cachedID]
	seed   maphash.Seed
}

// recentPseudonyms is the size of the hasher's cache (a power of two):
// about 6 MB when full with typical identifiers.
const recentPseudonyms = 1 << 16

// hmacState is a keyed HMAC with its output buffer, pooled together so
// that hashing allocates only the returned string.
type hmacState struct {
	mac hash.Hash
	sum [sha256.Size]byte
}

func newHasher(key []byte, n int) *hasher {
	k := slices.Clone(key)
	return &hasher{bytes: n, pool: sync.Pool{New: func() any { return &hmacState{mac: hmac.New(sha256.New, k)} }},
		recent: make([]atomic.Pointer[cachedID], recentPseudonyms), seed: maphash.MakeSeed()}
}

func (h *hasher) sum(s string) string {
	slot := &h.recent[maphash.String(h.seed, s)&(recentPseudonyms-1)]
	if c := slot.Load(); c != nil && c.raw == s {
		return c.sum
	}
	sum := h.compute(s)
	// The raw value may point into a request buffer that is reused: keep a
	// copy.
	slot.Store(&cachedID{raw: strings.Clone(s), sum: sum})
	return sum
}

func (h *hasher) compute(s string) string {
	st := h.pool.Get().(*hmacState)
	st.mac.Reset()
	// Write does not retain its argument, so the string's bytes are safe
	// to lend without a copy.
	st.mac.Write(unsafe.Slice(unsafe.StringData(s), len(s)))
	sum := st.mac.Sum(st.sum[:0])
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], sum[:h.bytes])
	h.pool.Put(st)
	return string(out[:2*h.bytes])
}

// pseudonym returns the pseudonym of identifier id's raw value, reusing the
// batch's last result for that identifier: the events of one batch mostly
// come from one client, so session and device ids repeat.
func (p *privacyProcessor) pseudonym(id int, raw string, bs *batchStats) string {
	if id < len(bs.ids) {
		if c := &bs.ids[id]; c.raw == raw && c.sum != "" {
			return c.sum
		}
	}
	sum := p.hasher.sum(raw)
	if id < len(bs.ids) {
		bs.ids[id] = cachedID{raw: raw, sum: sum}
	}
	return sum
}

type cachedID struct{ raw, sum string }

// stats is what happened to one record.
type stats struct {
	masked  int
	removed int
	reduced bool
	drop    dropReason
	ids     uint64 // identifier slots seen in the map being walked
}

// dropFor records a reason to drop the record, keeping the strongest one.
func (st *stats) dropFor(r dropReason) { st.drop = max(st.drop, r) }

// batchStats accumulates a batch's counts for the telemetry, recorded once
// per batch.
type batchStats struct {
	dropped   [numDropReasons]int64
	masked    [pii.Custom + 2]int64 // by pii.Type; the last slot counts sensitive keys
	decisions [4][3]int64           // by level: kept, reduced, dropped
	removed   int64
	ids       [4]cachedID // last pseudonym per identifier, see pseudonym
	keys      [64]keyMemo // keys by position in the previous record, see keyAt
}

const sensitiveSlot = pii.Custom + 1

func (p *privacyProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	var bs batchStats
	// rc, when the receiver passed one, learns which records were dropped
	// and why, so that its answer counts only what is kept. Records are
	// numbered before any is removed.
	rc := receipt.FromContext(ctx)
	n := 0
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		res := p.resource(rl.Resource(), &bs)
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sls.At(j).LogRecords().RemoveIf(func(lr plog.LogRecord) bool {
				reason := p.processLog(lr, res, &bs)
				if rc != nil && reason.reported() {
					rc.Drop(n, dropReasonNames[reason])
				}
				n++
				return reason != keep
			})
		}
	}
	p.tel.record(ctx, &bs)
	return ld, nil
}

// resource applies the policy to a resource's attributes when they are
// scanned, and returns the reason its identifiers give to drop everything
// under it (a forgotten, invalid or duplicated user.id), or keep.
func (p *privacyProcessor) resource(r pcommon.Resource, bs *batchStats) dropReason {
	if !p.cfg.PII.ScanResource {
		return keep
	}
	var st stats
	p.walk(r.Attributes(), nil, &st, bs)
	if st.drop.byIdentifier() {
		return st.drop
	}
	return keep
}

// processLog applies the whole policy to one record and says whether and
// why it is dropped. res is the reason its resource gives, or keep.
func (p *privacyProcessor) processLog(lr plog.LogRecord, res dropReason, bs *batchStats) dropReason {
	attrs := lr.Attributes()
	var lvl *level
	if strings.HasPrefix(lr.EventName(), "pulse.") || p.hasAttr(attrs, p.cfg.Consent.Attribute) {
		lvl = p.consentLevel(attrs)
	}
	reason, reduced := res, false
	if res == keep {
		reason, reduced = p.processLogRecord(lr, lvl, bs)
	}
	if lvl != nil {
		switch {
		case reason != keep:
			bs.decisions[lvl.idx][2]++
		case reduced:
			bs.decisions[lvl.idx][1]++
		default:
			bs.decisions[lvl.idx][0]++
		}
	}
	bs.dropped[reason]++
	return reason
}

func (p *privacyProcessor) hasAttr(m pcommon.Map, k string) bool {
	_, ok := m.Get(k)
	return ok
}

// processLogRecord reports why the record is dropped, if it is, and whether
// consent reduced it.
func (p *privacyProcessor) processLogRecord(lr plog.LogRecord, lvl *level, bs *batchStats) (dropReason, bool) {
	attrs := lr.Attributes()
	if lvl != nil {
		if lvl.eventTypes != nil {
			et := ""
			if v, ok := attrs.Get(schema.AttrEventType); ok {
				et = v.AsString()
			} else if strings.HasPrefix(lr.EventName(), schema.EventRecommendation) {
				et = "ai_recommendation"
			}
			if _, ok := lvl.eventTypes[et]; !ok {
				return dropConsentEventType, false
			}
		}
		if lvl.categories != nil {
			cat := ""
			if v, ok := attrs.Get(schema.AttrCategory); ok {
				cat = v.AsString()
			}
			if _, ok := lvl.categories[cat]; !ok {
				return dropConsentCategory, false
			}
		}
	}

	var st stats
	p.walk(attrs, lvl, &st, bs)
	if st.drop == keep && p.cfg.PII.ScanBody {
		body := lr.Body()
		switch body.Type() {
		case pcommon.ValueTypeStr, pcommon.ValueTypeMap, pcommon.ValueTypeSlice, pcommon.ValueTypeBytes:
			if p.value(body, &st, bs) {
				body.SetStr(schema.RedactedMarker + "]")
				st.masked++
			}
		}
	}
	switch {
	case st.drop != keep:
		return st.drop, st.reduced
	case st.reduced && p.drop:
		return dropConsentViolation, true
	}
	if lvl != nil {
		if v, ok := attrs.Get(p.cfg.Consent.Attribute); !ok || v.Type() != pcommon.ValueTypeStr || v.Str() != lvl.name {
			attrs.PutStr(p.cfg.Consent.Attribute, lvl.name)
		}
		if v, ok := attrs.Get(schema.AttrIsAnonymized); !ok || v.Type() != pcommon.ValueTypeBool || !v.Bool() {
			attrs.PutBool(schema.AttrIsAnonymized, true)
		}
	}
	if p.cfg.AuditAttributes {
		p.audit(attrs, &st)
	}
	bs.removed += int64(st.removed)
	return keep, st.reduced
}

func (p *privacyProcessor) audit(attrs pcommon.Map, st *stats) {
	attrs.EnsureCapacity(attrs.Len() + 4)
	if p.hasher != nil {
		attrs.PutStr(AttrKeyID, p.cfg.Pseudonymize.KeyID)
	}
	attrs.PutInt(AttrMasked, int64(st.masked))
	attrs.PutInt(AttrRemoved, int64(st.removed))
	decision := "kept"
	if st.reduced {
		decision = "reduced"
	}
	attrs.PutStr(AttrDecision, decision)
}

// consentLevel reads the record's consent level; a missing or unknown
// level is "necessary" (fail closed).
func (p *privacyProcessor) consentLevel(attrs pcommon.Map) *level {
	if v, ok := attrs.Get(p.cfg.Consent.Attribute); ok && v.Type() == pcommon.ValueTypeStr {
		for _, l := range p.levels {
			if l.name == v.Str() {
				return l
			}
		}
	}
	return p.levels[0]
}

// walk applies the policy to every attribute of m in one pass. lvl is nil
// for records that carry no consent (resources, spans, metrics, plain logs).
func (p *privacyProcessor) walk(m pcommon.Map, lvl *level, st *stats, bs *batchStats) {
	st.ids = 0
	i := 0
	var ren renames
	m.RemoveIf(func(k string, v pcommon.Value) bool {
		memo := p.keyAt(i, k, bs)
		i++
		if p.attr(memo, v, lvl, st, bs) {
			st.removed++
			return true
		}
		return memo.piiKey && p.renameKey(&ren, k, v, st, bs)
	})
	ren.apply(m)
}

// keyAt returns the keyInfo of the attribute at position i. Records from
// one producer list their attributes in the same order, so the key at the
// same position in the batch's previous record is compared first: a string
// comparison instead of a map lookup.
func (p *privacyProcessor) keyAt(i int, k string, bs *batchStats) *keyMemo {
	if i >= len(bs.keys) {
		return &keyMemo{key: k, ki: p.keys.get(k), piiKey: p.keyHasPII(k)}
	}
	m := &bs.keys[i]
	if m.ki == nil || m.key != k {
		*m = keyMemo{key: k, ki: p.keys.get(k), piiKey: p.keyHasPII(k)}
	}
	return m
}

// keyMemo is what the batch's previous record had at one attribute
// position: the key's decisions, and the last string value found clean
// there (user agents, paths and titles repeat within a batch, and
// comparing is cheaper than scanning).
type keyMemo struct {
	key    string
	ki     *keyInfo
	clean  string
	piiKey bool // the key itself holds PII (see keyHasPII)
}

// attr handles one top-level attribute and reports whether to remove it.
func (p *privacyProcessor) attr(memo *keyMemo, v pcommon.Value, lvl *level, st *stats, bs *batchStats) bool {
	ki := memo.ki
	switch {
	case ki.consent:
		return false
	case ki.slot >= 0:
		return p.identifier(ki, v, lvl, st, bs)
	case lvl != nil && ki.groups&lvl.denied != 0:
		st.reduced = true
		return true
	case ki.ip:
		return p.ip(v)
	case ki.sensitive:
		return p.sensitive(v, st, bs)
	}
	if ki.skip {
		return false
	}
	if len(ki.nested) > 0 && v.Type() == pcommon.ValueTypeMap {
		p.nested(v.Map(), ki, lvl, st, bs)
		return false
	}
	if v.Type() == pcommon.ValueTypeStr {
		s := v.Str()
		if s != "" && s == memo.clean {
			return false
		}
		sc := p.scanner
		if ki.version {
			sc = p.verScanner
		}
		masked := st.masked
		remove := p.str(sc, v, st, bs)
		if !remove && st.masked == masked && st.drop == keep {
			memo.clean = s
		}
		return remove
	}
	return p.value(v, st, bs)
}

// identifier applies the identifier rule to one identifier attribute and
// reports whether to remove it. The rule is the same for every path (the
// analytics receiver's strings, OTLP values of any type): the value is
// canonicalised first (identifierString), and what the forget check, the
// duplicate check and the pseudonym see is that canonical string. A value
// that names no identifier, or a second copy of the key, drops the record;
// the attribute is removed too, for resources, which are not dropped.
func (p *privacyProcessor) identifier(ki *keyInfo, v pcommon.Value, lvl *level, st *stats, bs *batchStats) bool {
	raw, ok := identifierString(v)
	if !ok {
		st.dropFor(dropInvalidIdentifier)
		return true
	}
	if ki.forget && p.forget != nil && p.forget.Forgotten(raw) {
		st.dropFor(dropForgotten)
		return true
	}
	bit := uint64(1) << ki.slot
	if st.ids&bit != 0 {
		st.dropFor(dropDuplicateIdentifier)
		return true
	}
	st.ids |= bit
	switch {
	case ki.id < 0: // the forget key, not pseudonymised by this config
		return false
	case lvl != nil && lvl.ids&(1<<ki.id) == 0:
		st.reduced = true
		return true
	case p.hasher != nil:
		v.SetStr(p.pseudonym(ki.id, raw, bs))
	}
	return false
}

// identifierString returns the identifier a value names: a string as it
// is, an int, or a double holding an exact integer within the int64 range,
// as its decimal digits ("4242012345" for 4242012345 and 4242012345.0).
// Other values name no identifier.
func identifierString(v pcommon.Value) (string, bool) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return v.Str(), true
	case pcommon.ValueTypeInt:
		return strconv.FormatInt(v.Int(), 10), true
	case pcommon.ValueTypeDouble:
		// -2^63 and 2^63 are exact doubles; int64 holds the first only.
		if f := v.Double(); f == math.Trunc(f) && f >= math.MinInt64 && f < -math.MinInt64 {
			return strconv.FormatInt(int64(f), 10), true
		}
	}
	return "", false
}

// nested handles a map attribute that group or IP patterns reach into:
// members they match are removed or truncated, the others scanned.
func (p *privacyProcessor) nested(m pcommon.Map, ki *keyInfo, lvl *level, st *stats, bs *batchStats) {
	var ren renames
	defer ren.apply(m)
	m.RemoveIf(func(k string, v pcommon.Value) bool {
		mi := p.keys.member(ki, k)
		switch {
		case mi.group == -2:
			remove := p.ip(v)
			if remove {
				st.removed++
			}
			return remove
		case mi.group >= 0 && lvl != nil && lvl.denied&(1<<mi.group) != 0:
			st.reduced = true
			st.removed++
			return true
		}
		return p.memberValue(mi.nameInfo, v, st, bs) || (p.keyHasPII(k) && p.renameKey(&ren, k, v, st, bs))
	})
}

// memberValue handles one member of a scanned map by what its name says.
func (p *privacyProcessor) memberValue(n nameInfo, v pcommon.Value, st *stats, bs *batchStats) bool {
	var remove bool
	switch {
	case n.sensitive:
		remove = p.sensitive(v, st, bs)
	case n.version && v.Type() == pcommon.ValueTypeStr:
		remove = p.str(p.verScanner, v, st, bs)
	default:
		remove = p.value(v, st, bs)
	}
	if remove {
		st.removed++
	}
	return remove
}

// ip truncates an IP address value (IPv4 to /24, IPv6 to /48) or reports
// that it must be removed.
func (p *privacyProcessor) ip(v pcommon.Value) bool {
	if p.ipDrop {
		return true
	}
	s := v.AsString()
	addr, err := netip.ParseAddr(s)
	if err != nil {
		ap, err2 := netip.ParseAddrPort(s)
		if err2 != nil {
			// Not an address: nothing to keep that could identify anyone.
			return true
		}
		addr = ap.Addr()
	}
	bits := 48
	if addr.Is4() || addr.Is4In6() {
		addr, bits = addr.Unmap(), 24
	}
	prefix, _ := addr.Prefix(bits)
	v.SetStr(prefix.Addr().String())
	return false
}

// sensitive handles a value whose key names PII.
func (p *privacyProcessor) sensitive(v pcommon.Value, st *stats, bs *batchStats) bool {
	bs.masked[sensitiveSlot]++
	switch p.sensAct {
	case actDropAttr:
		return true
	case actDropEvent:
		st.dropFor(dropPII)
		return false
	case actHash:
		v.SetStr(p.hasher.sum(v.AsString()))
	default:
		v.SetStr(schema.RedactedMarker + "]")
	}
	st.masked++
	return false
}

// value scans a value for PII, masking in place, and reports whether the
// value must be removed from its parent.
func (p *privacyProcessor) value(v pcommon.Value, st *stats, bs *batchStats) bool {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return p.str(p.scanner, v, st, bs)
	case pcommon.ValueTypeBytes:
		// Opaque bytes cannot be scanned reliably; they may hold anything.
		v.SetStr(schema.RedactedMarker + ":bytes]")
		st.masked++
		return false
	case pcommon.ValueTypeMap:
		var ren renames
		v.Map().RemoveIf(func(k string, vv pcommon.Value) bool {
			return p.memberValue(p.keys.memberName(k), vv, st, bs) || (p.keyHasPII(k) && p.renameKey(&ren, k, vv, st, bs))
		})
		ren.apply(v.Map())
	case pcommon.ValueTypeSlice:
		v.Slice().RemoveIf(func(vv pcommon.Value) bool {
			remove := p.value(vv, st, bs)
			if remove {
				st.removed++
			}
			return remove
		})
	}
	return false
}

// str scans a string value with sc, masking in place, and reports whether
// the value must be removed.
func (p *privacyProcessor) str(sc *pii.Scanner, v pcommon.Value, st *stats, bs *batchStats) bool {
	s := v.Str()
	var buf [8]pii.Match
	matches := sc.Scan(buf[:0], s)
	if len(matches) == 0 {
		return false
	}
	worst := actOff
	for _, m := range matches {
		a := p.matchAction(m)
		worst = max(worst, a)
		bs.masked[m.Type]++
	}
	switch worst {
	case actDropEvent:
		st.dropFor(dropPII)
		return false
	case actDropAttr:
		return true
	}
	v.SetStr(pii.Redact(s, matches, p.replace))
	st.masked += len(matches)
	return false
}

func (p *privacyProcessor) matchAction(m pii.Match) action {
	if m.Type == pii.Custom {
		return p.custAct[m.Pattern]
	}
	return p.typeAct[m.Type]
}

func (p *privacyProcessor) replace(m pii.Match, value string) string {
	if p.matchAction(m) == actHash {
		name := m.Type.String()
		if m.Type == pii.Custom {
			name = p.cfg.PII.Custom[m.Pattern].Name
		}
		return "[" + name + ":" + p.hasher.sum(value) + "]"
	}
	if m.Type == pii.Custom {
		return p.custStr[m.Pattern]
	}
	return p.maskStr[m.Type]
}

func (p *privacyProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	var bs batchStats
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		res := p.resource(rs.Resource(), &bs)
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			sss.At(j).Spans().RemoveIf(func(span ptrace.Span) bool {
				if res != keep {
					bs.dropped[res]++
					return true
				}
				var st stats
				p.walk(span.Attributes(), nil, &st, &bs)
				for k := 0; k < span.Events().Len(); k++ {
					p.walk(span.Events().At(k).Attributes(), nil, &st, &bs)
				}
				for k := 0; k < span.Links().Len(); k++ {
					p.walk(span.Links().At(k).Attributes(), nil, &st, &bs)
				}
				bs.dropped[st.drop]++
				bs.removed += int64(st.removed)
				return st.drop != keep
			})
		}
	}
	p.tel.record(ctx, &bs)
	return td, nil
}

func (p *privacyProcessor) processMetrics(ctx context.Context, md pmetric.Metrics) (pmetric.Metrics, error) {
	var bs batchStats
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		res := p.resource(rm.Resource(), &bs)
		sms := rm.ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				p.metric(ms.At(k), res, &bs)
			}
		}
	}
	p.tel.record(ctx, &bs)
	return md, nil
}

// metric applies the policy to the data points of m; res is the reason
// their resource gives to drop them all, or keep.
func (p *privacyProcessor) metric(m pmetric.Metric, res dropReason, bs *batchStats) {
	dropPoint := func(attrs pcommon.Map) bool {
		if res != keep {
			bs.dropped[res]++
			return true
		}
		var st stats
		p.walk(attrs, nil, &st, bs)
		bs.dropped[st.drop]++
		bs.removed += int64(st.removed)
		return st.drop != keep
	}
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		m.Gauge().DataPoints().RemoveIf(func(dp pmetric.NumberDataPoint) bool { return dropPoint(dp.Attributes()) })
	case pmetric.MetricTypeSum:
		m.Sum().DataPoints().RemoveIf(func(dp pmetric.NumberDataPoint) bool { return dropPoint(dp.Attributes()) })
	case pmetric.MetricTypeHistogram:
		m.Histogram().DataPoints().RemoveIf(func(dp pmetric.HistogramDataPoint) bool { return dropPoint(dp.Attributes()) })
	case pmetric.MetricTypeExponentialHistogram:
		m.ExponentialHistogram().DataPoints().RemoveIf(func(dp pmetric.ExponentialHistogramDataPoint) bool { return dropPoint(dp.Attributes()) })
	case pmetric.MetricTypeSummary:
		m.Summary().DataPoints().RemoveIf(func(dp pmetric.SummaryDataPoint) bool { return dropPoint(dp.Attributes()) })
	}
}
