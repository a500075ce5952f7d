package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// componentBench is a per-event cost that the testbed's end-to-end runs
// cannot isolate, measured by the component's go benchmark in the same run.
type componentBench struct {
	name   string // the benchmark, e.g. BenchmarkDedup
	metric string // the unit reported, e.g. ns/op
	what   string // what one unit is, for the report
	goal   float64
	runs   []float64 // one value per -count
	cpu    []float64 // the same as CPU time ("cpu-" + metric), less sensitive to the machine's load
}

func (c componentBench) median() float64 { return medianOf(c.runs) }

func medianOf(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return -1
	}
	return s[len(s)/2]
}

// dedupBenches are issue 11's costs: de-duplication by id and the join of
// later responses to their recommendations, at steady state with the
// default bounds (1 M ids per generation, 1 M recommendations).
func dedupBenches() []componentBench {
	return []componentBench{
		{name: "BenchmarkDedup", metric: "ns/op", what: "de-duplication check of an event id", goal: 300},
		{name: "BenchmarkDedupJoin", metric: "ns/record", what: "de-duplication and join per recommendation record (a recommendation remembered, a response joined)", goal: 300},
		{name: "BenchmarkJoinLookup", metric: "ns/op", what: "join lookup of a later response", goal: 300},
	}
}

const connectorPkg = "./connector/analyticsmetricsconnector/"

// runComponentBenches runs the benchmarks count times each in one go test
// process and fills in their runs.
func runComponentBenches(bs []componentBench, count int) ([]componentBench, string, error) {
	names := make([]string, len(bs))
	for i, b := range bs {
		names[i] = b.name
	}
	args := []string{"test", "-run", "^$", "-bench", "^(" + strings.Join(names, "|") + ")$", "-benchmem", "-count", strconv.Itoa(count), connectorPkg}
	cmd := exec.Command("go", args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return parseBenchOutput(bs, out), "go " + strings.Join(quoteArgs(args), " "), nil
}

func quoteArgs(args []string) []string {
	q := slices.Clone(args)
	for i, a := range q {
		if strings.ContainsAny(a, "^$|()") {
			q[i] = "'" + a + "'"
		}
	}
	return q
}

// parseBenchOutput collects, for each benchmark of bs, the values of its
// metric from go test -bench output lines such as
// "BenchmarkDedup-2   4216608   282.6 ns/op   0 B/op   0 allocs/op".
func parseBenchOutput(bs []componentBench, out []byte) []componentBench {
	bs = slices.Clone(bs)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		name, _, _ := strings.Cut(f[0], "-")
		for i := range bs {
			if bs[i].name != name {
				continue
			}
			for k := 3; k < len(f); k++ {
				v, err := strconv.ParseFloat(f[k-1], 64)
				switch {
				case err != nil:
				case f[k] == bs[i].metric:
					bs[i].runs = append(bs[i].runs, v)
				case f[k] == "cpu-"+bs[i].metric:
					bs[i].cpu = append(bs[i].cpu, v)
				}
			}
		}
	}
	return bs
}

// componentReport is the report's section on the component costs.
func componentReport(bs []componentBench, command string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n### De-duplication and the response join per event (issue 11)\n\n")
	fmt.Fprintf(&b, "The end-to-end runs above carry a new `eventId` and `recommendationId` in every record, so they include these costs; the component benchmark isolates them, in the same run: `%s` (medians; full tables at the defaults). The CPU time per op is the test process's user+system time over the loop: on a shared machine the wall time also counts the time other processes held the cores.\n\n", command)
	b.WriteString("| cost | median | every run | CPU time, median | goal |\n|---|---|---|---|---|\n")
	for _, c := range bs {
		var runs []string
		for _, v := range c.runs {
			runs = append(runs, fmt.Sprintf("%.0f", v))
		}
		verdict := "not met"
		if m := c.median(); m >= 0 && m < c.goal {
			verdict = "met"
		}
		cpu := "n/a"
		if m := medianOf(c.cpu); m >= 0 {
			cpu = fmt.Sprintf("%.0f cpu-%s", m, c.metric)
		}
		fmt.Fprintf(&b, "| %s (`%s`) | %.0f %s | %s | %s | < %.0f ns: %s |\n", c.what, c.name, c.median(), c.metric, strings.Join(runs, ", "), cpu, c.goal, verdict)
	}
	return b.String()
}
