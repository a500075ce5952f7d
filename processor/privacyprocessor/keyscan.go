package privacyprocessor

import (
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/pulse-otel/pulse/internal/pii"
)

// Keys are scanned as well as values: an app that writes
// {"metadata": {"someone@example.com": 1}}, or an OTLP producer whose
// attribute key holds an e-mail address, would otherwise carry personal
// data into storage, where an attribute key becomes a label name.
//
// A key that holds PII follows its types' actions like a value does:
// mask (the default) replaces each match in the key with its marker, so
// {"someone@example.com": 1} becomes {"[REDACTED:email]": 1}; hash with the
// hash marker; drop_attribute removes the attribute; drop_event drops the
// record. When the new key is already taken (two masked keys, or a key
// that was literally "[REDACTED:email]"), "#2", "#3", ... is appended:
// values are never merged or lost. The value under a masked key is
// processed first, like any other.

// keyHasPII reports whether the key k holds PII. The answer is cached per
// key (bounded, like the key rules), so a clean key costs one map lookup
// after its first record.
func (p *privacyProcessor) keyHasPII(k string) bool {
	if k == "" {
		return false
	}
	return p.piiKeys.get(k, p.scanKey)
}

func (p *privacyProcessor) scanKey(k string) bool {
	var buf [4]pii.Match
	return len(p.scanner.Scan(buf[:0], k)) > 0
}

// renames holds the members of one map whose keys are masked, moved out
// while the map is walked and put back under their new keys after.
type renames struct {
	keys []string
	vals []pcommon.Value
}

// renameKey applies the PII actions to the key k of value v and reports
// whether the member must leave the map (removed, or moved to a new key
// held in r).
func (p *privacyProcessor) renameKey(r *renames, k string, v pcommon.Value, st *stats, bs *batchStats) bool {
	var buf [4]pii.Match
	matches := p.scanner.Scan(buf[:0], k)
	if len(matches) == 0 {
		return false
	}
	worst := actOff
	for _, m := range matches {
		worst = max(worst, p.matchAction(m))
		bs.masked[m.Type]++
	}
	switch worst {
	case actDropEvent:
		st.dropFor(dropPII)
		return false
	case actDropAttr:
		st.removed++
		return true
	case actOff:
		return false
	}
	st.masked += len(matches)
	moved := pcommon.NewValueEmpty()
	v.CopyTo(moved)
	r.keys = append(r.keys, pii.Redact(k, matches, p.replace))
	r.vals = append(r.vals, moved)
	return true
}

// maxKeySuffix bounds the "#n" suffixes tried for a taken key.
const maxKeySuffix = 1000

// apply puts the moved members back into m under their new keys, with a
// "#n" suffix when a key is taken.
func (r *renames) apply(m pcommon.Map) {
	for x, k := range r.keys {
		key := k
		for n := 2; n <= maxKeySuffix; n++ {
			if _, taken := m.Get(key); !taken {
				break
			}
			key = k + "#" + strconv.Itoa(n)
		}
		r.vals[x].CopyTo(m.PutEmpty(key))
	}
}
