package privacyprocessor

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/pulse-otel/pulse/internal/pii"
	"github.com/pulse-otel/pulse/internal/schema"
)

// piiCorpusDir is the pii scanner's labelled corpus: JSON lines
// {"text": ..., "spans": [{"type": ..., "value": ...}]}, see
// internal/pii/corpus_test.go. Lines without spans hold no PII.
var piiCorpusDir = filepath.Join("..", "..", "internal", "pii", "testdata", "corpus")

type corpusEntry struct {
	file  string
	Text  string `json:"text"`
	Spans []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"spans"`
}

func loadPIICorpus(t *testing.T) []corpusEntry {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(piiCorpusDir, "*.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no corpus in %s", piiCorpusDir)
	var out []corpusEntry
	for _, f := range files {
		fh, err := os.Open(f)
		require.NoError(t, err)
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for n := 1; sc.Scan(); n++ {
			e := corpusEntry{file: fmt.Sprintf("%s:%d", filepath.Base(f), n)}
			require.NoError(t, json.Unmarshal(sc.Bytes(), &e), e.file)
			for _, sp := range e.Spans {
				_, err := pii.ParseType(sp.Type)
				require.NoError(t, err, e.file)
				require.Contains(t, e.Text, sp.Value, e.file)
			}
			out = append(out, e)
		}
		require.NoError(t, sc.Err())
		require.NoError(t, fh.Close())
	}
	return out
}

// corpusTextKey is the one attribute each corpus record has: a plain key,
// not a sensitive name, not skipped, in no consent group. In nested mode
// the text is the member "note" of a map attribute, pulse.metadata, where
// analytics events carry free-form data.
const corpusTextKey = "message"

// runCorpus puts each corpus text in a plain log record of its own, runs fn
// over the batch and returns each record's text afterwards; ok is false when
// the record or the attribute was removed.
func runCorpus(t *testing.T, fn logsFunc, corpus []corpusEntry, nested bool) (texts []string, ok []bool) {
	t.Helper()
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for i, e := range corpus {
		lr := lrs.AppendEmpty()
		lr.Attributes().PutInt("corpus.index", int64(i))
		if nested {
			lr.Attributes().PutEmptyMap(schema.AttrMetadata).PutStr("note", e.Text)
		} else {
			lr.Attributes().PutStr(corpusTextKey, e.Text)
		}
	}
	require.NoError(t, fn(context.Background(), ld))
	texts, ok = make([]string, len(corpus)), make([]bool, len(corpus))
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				idx, found := lr.Attributes().Get("corpus.index")
				require.True(t, found)
				v, found := lr.Attributes().Get(corpusTextKey)
				if nested {
					if v, found = lr.Attributes().Get(schema.AttrMetadata); found && v.Type() == pcommon.ValueTypeMap {
						v, found = v.Map().Get("note")
					}
				}
				if found {
					texts[idx.Int()], ok[idx.Int()] = v.AsString(), true
				}
			}
		}
	}
	return texts, ok
}

// corpusScore is one processor's result on the corpus.
type corpusScore struct {
	caught    map[string]int // positive spans whose value is gone, by type
	changed   int            // negative lines whose text changed
	misses    []string
	negatives []string
}

func scoreCorpus(corpus []corpusEntry, texts []string, ok []bool) corpusScore {
	s := corpusScore{caught: map[string]int{}}
	for i, e := range corpus {
		if len(e.Spans) == 0 {
			if !ok[i] || texts[i] != e.Text {
				s.changed++
				s.negatives = append(s.negatives, fmt.Sprintf("%s: %q -> %q", e.file, e.Text, texts[i]))
			}
			continue
		}
		for _, sp := range e.Spans {
			if !ok[i] || !strings.Contains(texts[i], sp.Value) {
				s.caught[sp.Type]++
				continue
			}
			s.misses = append(s.misses, fmt.Sprintf("%s: %s %q in %q -> %q", e.file, sp.Type, sp.Value, e.Text, texts[i]))
		}
	}
	return s
}

func (s corpusScore) total() int {
	n := 0
	for _, c := range s.caught {
		n += c
	}
	return n
}

func ratio(n, d int) float64 {
	if d == 0 {
		return 1
	}
	return float64(n) / float64(d)
}

// TestRecallVersusRedaction runs the privacy processor and the redaction
// processor (configured as in the benchmarks) over the pii scanner's
// labelled corpus. A positive span is caught when its value no longer
// appears in the output; a negative line (no spans) is a false positive
// when the output differs from the input.
func TestRecallVersusRedaction(t *testing.T) {
	corpus := loadPIICorpus(t)
	positives, negatives := map[string]int{}, 0
	for _, e := range corpus {
		if len(e.Spans) == 0 {
			negatives++
		}
		for _, sp := range e.Spans {
			positives[sp.Type]++
		}
	}
	score := func(fn logsFunc, nested bool) corpusScore {
		texts, ok := runCorpus(t, fn, corpus, nested)
		return scoreCorpus(corpus, texts, ok)
	}
	privacy, redaction := newPrivacyFunc(t), newFactoryFunc(t, true)
	priv, red := score(privacy, false), score(redaction, false)
	// The same texts inside a map attribute.
	privNested, redNested := score(privacy, true), score(redaction, true)

	var tbl strings.Builder
	fmt.Fprintf(&tbl, "%d corpus lines; recall per type (caught/positives):\n", len(corpus))
	fmt.Fprintf(&tbl, "%-13s %9s %18s %18s\n", "type", "positives", "privacy", "redaction")
	total, privCaught, redCaught := 0, 0, 0
	for _, typ := range pii.AllTypes() {
		name := typ.String()
		n, p, r := positives[name], priv.caught[name], red.caught[name]
		total, privCaught, redCaught = total+n, privCaught+p, redCaught+r
		fmt.Fprintf(&tbl, "%-13s %9d %5d %12.4f %5d %12.4f\n", name, n, p, ratio(p, n), r, ratio(r, n))
	}
	privRecall, redRecall := ratio(privCaught, total), ratio(redCaught, total)
	fmt.Fprintf(&tbl, "%-13s %9d %5d %12.4f %5d %12.4f\n", "overall", total, privCaught, privRecall, redCaught, redRecall)
	fmt.Fprintf(&tbl, "%-13s %9d %5d %12.4f %5d %12.4f  (negative lines changed)\n", "false pos.", negatives,
		priv.changed, ratio(priv.changed, negatives), red.changed, ratio(red.changed, negatives))
	pn, rn := privNested.total(), redNested.total()
	fmt.Fprintf(&tbl, "%-13s %9d %5d %12.4f %5d %12.4f  (the texts in a member of pulse.metadata)\n", "overall, map", total,
		pn, ratio(pn, total), rn, ratio(rn, total))
	t.Log("\n" + tbl.String())

	for _, m := range priv.misses {
		t.Logf("privacy missed %s", m)
	}
	for _, m := range priv.negatives {
		t.Logf("privacy false positive %s", m)
	}
	const examples = 12
	for _, m := range red.misses[:min(examples, len(red.misses))] {
		t.Logf("redaction missed %s", m)
	}
	for _, m := range red.negatives[:min(examples, len(red.negatives))] {
		t.Logf("redaction false positive %s", m)
	}

	assert.GreaterOrEqual(t, privRecall, redRecall, "privacy processor's overall recall vs the redaction processor's")
	assert.GreaterOrEqual(t, privRecall, 0.99, "privacy processor's overall recall")
	assert.LessOrEqual(t, priv.changed, red.changed, "privacy processor's false positives vs the redaction processor's")
	assert.Equal(t, privCaught, pn, "the privacy processor scans map members as it scans attributes")
}
