package privacyprocessor

import (
	"net/netip"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/pulse-otel/pulse/internal/pii"
	"github.com/pulse-otel/pulse/internal/schema"
)

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
