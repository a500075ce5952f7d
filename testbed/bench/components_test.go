package main

import (
	"strings"
	"testing"
)

func TestParseBenchOutput(t *testing.T) {
	out := []byte(`goos: linux
pkg: github.com/pulse-otel/pulse/connector/analyticsmetricsconnector
BenchmarkDedup-2        	 4216608	       282.6 ns/op	       200.0 cpu-ns/op	       0 B/op	       0 allocs/op
BenchmarkDedupJoin-2    	 1622779	       712.5 ns/op	       356.3 ns/record	      10 B/op	       0 allocs/op
BenchmarkDedup-2        	 4216608	       301.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkDedupMemory-2  	       1	  16.80 B/id
BenchmarkDedup-2        	 4216608	       250.0 ns/op	       0 B/op	       0 allocs/op
PASS
`)
	bs := parseBenchOutput(dedupBenches(), out)
	if got := bs[0].runs; len(got) != 3 || bs[0].median() != 282.6 {
		t.Errorf("BenchmarkDedup: runs %v, median %v; want 3 runs, median 282.6", got, bs[0].median())
	}
	if got := bs[1].runs; len(got) != 1 || got[0] != 356.3 {
		t.Errorf("BenchmarkDedupJoin: runs %v; want [356.3] (ns/record, not ns/op)", got)
	}
	if got := bs[0].cpu; len(got) != 1 || got[0] != 200 {
		t.Errorf("BenchmarkDedup: CPU runs %v; want [200]", got)
	}
	if bs[2].median() != -1 {
		t.Errorf("a benchmark without output has no median, got %v", bs[2].median())
	}
	md := componentReport(bs, "go test")
	for _, want := range []string{"| 283 ns/op | 283, 301, 250 | 200 cpu-ns/op | < 300 ns: met |", "| 356 ns/record | 356 | n/a | < 300 ns: not met |"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}
