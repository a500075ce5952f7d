package privacyprocessor

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pulse-otel/pulse/internal/pii"
)

// TestRealWorldVersusRedaction is TestRecallVersusRedaction on the
// real-world part of the corpus alone (internal/pii/testdata/corpus/rw_*:
// page URLs, referrers, OAuth redirects, element texts, feedback, search
// queries, error messages, user agents, metadata values, with hard
// negatives), in the same run for both processors.
func TestRealWorldVersusRedaction(t *testing.T) {
	var corpus []corpusEntry
	for _, e := range loadPIICorpus(t) {
		if strings.HasPrefix(e.file, "rw_") {
			corpus = append(corpus, e)
		}
	}
	positives, negatives := map[string]int{}, 0
	for _, e := range corpus {
		if len(e.Spans) == 0 {
			negatives++
		}
		for _, sp := range e.Spans {
			positives[sp.Type]++
		}
	}
	score := func(fn logsFunc) corpusScore {
		texts, ok := runCorpus(t, fn, corpus, false)
		return scoreCorpus(corpus, texts, ok)
	}
	priv, red := score(newPrivacyFunc(t)), score(newFactoryFunc(t, true))

	var tbl strings.Builder
	fmt.Fprintf(&tbl, "%d real-world lines; recall per type (caught/positives):\n", len(corpus))
	fmt.Fprintf(&tbl, "%-13s %9s %18s %18s\n", "type", "positives", "privacy", "redaction")
	total, privCaught, redCaught := 0, 0, 0
	for _, typ := range pii.AllTypes() {
		name := typ.String()
		n, p, r := positives[name], priv.caught[name], red.caught[name]
		if n == 0 {
			continue
		}
		total, privCaught, redCaught = total+n, privCaught+p, redCaught+r
		fmt.Fprintf(&tbl, "%-13s %9d %5d %12.4f %5d %12.4f\n", name, n, p, ratio(p, n), r, ratio(r, n))
	}
	fmt.Fprintf(&tbl, "%-13s %9d %5d %12.4f %5d %12.4f\n", "overall", total, privCaught, ratio(privCaught, total), redCaught, ratio(redCaught, total))
	fmt.Fprintf(&tbl, "%-13s %9d %5d %12.4f %5d %12.4f  (negative lines changed)\n", "false pos.", negatives,
		priv.changed, ratio(priv.changed, negatives), red.changed, ratio(red.changed, negatives))
	t.Log("\n" + tbl.String())
	for _, m := range priv.misses {
		t.Logf("privacy missed %s", m)
	}
	for _, m := range priv.negatives {
		t.Logf("privacy false positive %s", m)
	}

	assert.GreaterOrEqual(t, ratio(privCaught, total), 0.99, "privacy processor's real-world recall")
	assert.LessOrEqual(t, ratio(priv.changed, negatives), 0.01, "privacy processor's real-world false positives")
	assert.GreaterOrEqual(t, privCaught, redCaught)
	assert.LessOrEqual(t, priv.changed, red.changed)
}
