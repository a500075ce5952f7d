package userkeyprocessor // import "github.com/pulse-otel/pulse/processor/userkeyprocessor"

import (
	"strings"

	"github.com/cespare/xxhash/v2"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/pulse-otel/pulse/internal/schema"
)

// userIdentities are the attributes that name whose record it is, in the
// order they are tried.
var userIdentities = [...]string{schema.AttrUserID, schema.AttrDeviceID, schema.AttrSessionID}

// groupSeed seeds the group hash: the ASCII bytes of "pulse.uk". A seed,
// and not xxhash64's default 0, because the aggregators hash the same ids
// with unseeded xxhash64 (internal/hll takes the register from the low 14
// bits, the connector's dedup keys): with seed 0 every user of one
// partition would share the hash's low bits, and fill a sixth of the HLL
// registers at 6 partitions. A seeded XXH64 is an unrelated function.
const groupSeed = 0x70756c73652e756b

// groupOf returns the key group of one id: XXH64 seeded with groupSeed,
// modulo keys. It is the processor's one stability contract: changing it
// re-homes users.
func groupOf(id string, keys int) uint16 {
	var d xxhash.Digest
	d.ResetWithSeed(groupSeed)
	_, _ = d.WriteString(id)
	return uint16(d.Sum64() % uint64(keys))
}

// recordGroup returns the key group of lr (see identity).
func recordGroup(lr plog.LogRecord, keys int) uint16 {
	id, ok := identity(lr)
	if !ok {
		return 0
	}
	return groupOf(id, keys)
}

// identity returns the id that decides lr's group: the recommendation id of
// recommendations and their responses, else the first identifier present.
// It allocates only for ids that are not strings, which the privacy
// processor never leaves.
func identity(lr plog.LogRecord) (string, bool) {
	attrs := lr.Attributes()
	if name := lr.EventName(); name == schema.EventRecommendation || name == schema.EventRecommendationResponse {
		if id, ok := idValue(attrs, schema.AttrRecommendationID); ok {
			return id, true
		}
	}
	for _, k := range userIdentities {
		if id, ok := idValue(attrs, k); ok {
			return id, true
		}
	}
	return "", false
}

// idValue returns attribute k as an id; empty and masked values are none,
// or every masked record would pile into one group.
func idValue(attrs pcommon.Map, k string) (string, bool) {
	v, ok := attrs.Get(k)
	if !ok {
		return "", false
	}
	var s string
	switch v.Type() {
	case pcommon.ValueTypeStr:
		s = v.Str()
	case pcommon.ValueTypeEmpty, pcommon.ValueTypeMap, pcommon.ValueTypeSlice, pcommon.ValueTypeBytes:
		return "", false
	default:
		s = v.AsString()
	}
	if s == "" || strings.HasPrefix(s, schema.RedactedMarker) {
		return "", false
	}
	return s, true
}
