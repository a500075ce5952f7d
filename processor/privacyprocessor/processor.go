package privacyprocessor // import "github.com/pulse-otel/pulse/processor/privacyprocessor"

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
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

func (p *privacyProcessor) start(ctx context.Context, host component.Host) error {
	if err := p.recordStart(ctx, host); err != nil {
		return err
	}
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
	decisions [5][3]int64           // by level (ConsentLevels, then unknown): kept, reduced, dropped
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
	col := 0 // the consent_level label of the decision: lvl.idx, or unknownLevel
	if strings.HasPrefix(lr.EventName(), "pulse.") || p.hasAttr(attrs, p.cfg.Consent.Attribute) {
		var known bool
		lvl, known = p.consentLevel(attrs)
		col = lvl.idx
		if !known {
			col = unknownLevel
		}
	}
	reason, reduced := res, false
	if res == keep {
		reason, reduced = p.processLogRecord(lr, lvl, bs)
	}
	if lvl != nil {
		switch {
		case reason != keep:
			bs.decisions[col][2]++
		case reduced:
			bs.decisions[col][1]++
		default:
			bs.decisions[col][0]++
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

// unknownLevel is the decisions row of records whose consent level is
// missing or not a known level (they are treated as "necessary").
const unknownLevel = 4

// consentLevel reads the record's consent level and whether it is a known
// one; a missing or unknown level is "necessary" (fail closed).
func (p *privacyProcessor) consentLevel(attrs pcommon.Map) (*level, bool) {
	if v, ok := attrs.Get(p.cfg.Consent.Attribute); ok && v.Type() == pcommon.ValueTypeStr {
		for _, l := range p.levels {
			if l.name == v.Str() {
				return l, true
			}
		}
	}
	return p.levels[0], false
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
		case mi.group == ipGroup:
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
