package pii

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

type typeScore struct{ tp, fp, fn int }

func (s typeScore) precision() float64 {
	if s.tp+s.fp == 0 {
		return 1
	}
	return float64(s.tp) / float64(s.tp+s.fp)
}

func (s typeScore) recall() float64 {
	if s.tp+s.fn == 0 {
		return 1
	}
	return float64(s.tp) / float64(s.tp+s.fn)
}

func loadCorpus(t *testing.T) map[string][]corpusLine {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files: %v", err)
	}
	out := map[string][]corpusLine{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for n := 1; sc.Scan(); n++ {
			var l corpusLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatalf("%s:%d: %v", f, n, err)
			}
			for _, sp := range l.Spans {
				if _, err := ParseType(sp.Type); err != nil {
					t.Fatalf("%s:%d: %v", f, n, err)
				}
				if !strings.Contains(l.Text, sp.Value) {
					t.Fatalf("%s:%d: span %q not in text", f, n, sp.Value)
				}
			}
			out[filepath.Base(f)] = append(out[filepath.Base(f)], l)
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		fh.Close()
	}
	return out
}

// TestCorpus runs the scanner over the labelled corpus and checks precision
// and recall per type. A found (type, value) pair counts as a true positive
// when the line's labels hold it, a false positive otherwise; every label not
// found is a false negative.
func TestCorpus(t *testing.T) {
	corpus := loadCorpus(t)
	sc, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	scores := map[string]*typeScore{}
	for _, typ := range AllTypes() {
		scores[typ.String()] = &typeScore{}
	}
	positives, negatives := map[string]int{}, 0
	files := make([]string, 0, len(corpus))
	for f := range corpus {
		files = append(files, f)
	}
	sort.Strings(files)
	var misses []string
	for _, f := range files {
		for n, l := range corpus[f] {
			if len(l.Spans) == 0 {
				negatives++
			}
			want := map[corpusSpan]int{}
			for _, sp := range l.Spans {
				want[sp]++
				positives[sp.Type]++
			}
			for _, m := range sc.Scan(nil, l.Text) {
				got := corpusSpan{Type: m.Type.String(), Value: l.Text[m.Start:m.End]}
				if want[got] > 0 {
					want[got]--
					scores[got.Type].tp++
					continue
				}
				scores[got.Type].fp++
				misses = append(misses, fmt.Sprintf("%s:%d: false positive %s %q in %q", f, n+1, got.Type, got.Value, l.Text))
			}
			for sp, k := range want {
				for range k {
					scores[sp.Type].fn++
					misses = append(misses, fmt.Sprintf("%s:%d: missed %s %q in %q", f, n+1, sp.Type, sp.Value, l.Text))
				}
			}
		}
	}
	for _, m := range misses {
		t.Log(m)
	}
	var tbl strings.Builder
	fmt.Fprintf(&tbl, "corpus: %d lines without PII, positives per type below\n", negatives)
	fmt.Fprintf(&tbl, "%-13s %9s %5s %5s %5s %9s %7s\n", "type", "positives", "tp", "fp", "fn", "precision", "recall")
	for _, typ := range AllTypes() {
		s := scores[typ.String()]
		fmt.Fprintf(&tbl, "%-13s %9d %5d %5d %5d %9.4f %7.4f\n", typ, positives[typ.String()], s.tp, s.fp, s.fn, s.precision(), s.recall())
	}
	t.Log("\n" + tbl.String())

	if negatives < 300 {
		t.Errorf("corpus has %d negative lines, want >= 300", negatives)
	}
	for _, typ := range AllTypes() {
		s := scores[typ.String()]
		if positives[typ.String()] < 40 {
			t.Errorf("%s: %d positives in the corpus, want >= 40", typ, positives[typ.String()])
		}
		min := 0.99
		if typ == Phone {
			min = 0.95
		}
		if s.precision() < min || s.recall() < min {
			t.Errorf("%s: precision %.4f recall %.4f, want both >= %.2f", typ, s.precision(), s.recall(), min)
		}
	}
}
