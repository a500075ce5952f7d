package analyticsreceiver

import (
	"slices"

	"github.com/pulse-otel/pulse/internal/receipt"
	"github.com/pulse-otel/pulse/receiver/analyticsreceiver/internal/decoder"
)

// Dropped is an event of the request that was valid but not stored, because
// a later stage's policy dropped it (the privacy processor: consent, PII,
// identifiers). It is not counted in accepted.
type Dropped struct {
	Index  int    `json:"index"`
	Reason string `json:"reason"`
}

// dropped turns what the pipeline's stages recorded in rc into request
// indexes. Records are numbered as res.RequestIndex numbers them.
func dropped(rc *receipt.Receipt, res *decoder.Result) []Dropped {
	ds := rc.Dropped()
	if len(ds) == 0 {
		return nil
	}
	out := make([]Dropped, 0, len(ds))
	for _, d := range ds {
		i, ok := res.RequestIndex(d.Record)
		if !ok {
			continue // not one of this request's records
		}
		out = append(out, Dropped{Index: i, Reason: d.Reason})
	}
	// Records are grouped by resource, so request order differs.
	slices.SortFunc(out, func(a, b Dropped) int { return a.Index - b.Index })
	return out
}
