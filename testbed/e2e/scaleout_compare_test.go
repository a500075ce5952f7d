package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pulse-otel/pulse/internal/kpi"
)

// The scale-out test's comparison: every KPI of the registry and the
// cumulative total of every counter and histogram of the connector's
// catalog, on the reference's promstore API and on VictoriaMetrics, at
// the same evaluation time.

// soClass is how a KPI or total is compared.
type soClass string

const (
	soExact   soClass = "exact"         // counts, sums, and what follows from them
	soHLL     soClass = "hll"           // HyperLogLog estimates: 2 % of the active users
	soHLLRate soClass = "hll-ratio"     // per active user: 2 % of the value
	soFilter  soClass = "filter"        // the new-user filter's count: 1 % (estimated on handover)
	soRatio   soClass = "ratio"         // ratios 0 to 1: 0.01 absolute
	soLatency soClass = "latency"       // pipeline latency, different by design: reported only
	soDup     soClass = "retry-dropped" // duplicates dropped: the gateways' retries add some
)

// soClassOf says how a KPI is compared.
func soClassOf(k kpi.Def) soClass {
	switch k.Name {
	case "active_users", "returning_users":
		return soHLL
	case "avg_sessions_per_user":
		return soHLLRate
	case "new_users", "total_users":
		return soFilter
	case "freshness_p95", "timeliness_p95":
		return soLatency
	}
	if k.Unit == "1" {
		return soRatio
	}
	return soExact
}

// soTolerance is how far got may be from ref in class c; users is the
// reference's active users (the scale of the HLL and filter errors).
func soTolerance(c soClass, ref, users float64) float64 {
	switch c {
	case soHLL:
		return 0.02 * math.Max(users, math.Abs(ref))
	case soHLLRate:
		return 0.02 * math.Abs(ref)
	case soFilter:
		return 0.01*math.Max(users, math.Abs(ref)) + 1
	case soRatio:
		return 0.01
	case soLatency, soDup:
		return math.Inf(1)
	}
	return 1e-9 * math.Max(1, math.Abs(ref))
}

// soValue is one compared value.
type soValue struct {
	name     string
	class    soClass
	ref, got float64
	found    [2]bool // found on the reference, on VictoriaMetrics
}

func (v soValue) ok(users float64) bool {
	if v.class == soLatency || v.class == soDup {
		return true
	}
	if !v.found[0] && !v.found[1] {
		return true // absent from both (a series no event has made yet)
	}
	if v.nanDropped() || (math.IsNaN(v.ref) && math.IsNaN(v.got)) {
		return true
	}
	return v.found[0] && v.found[1] && math.Abs(v.got-v.ref) <= soTolerance(v.class, v.ref, users)
}

// nanDropped is VictoriaMetrics' answer to a 0/0: no sample where
// Prometheus answers NaN.
func (v soValue) nanDropped() bool { return v.found[0] && math.IsNaN(v.ref) && !v.found[1] }

func (v soValue) String() string {
	return fmt.Sprintf("%s [%s]: reference %.6g, VictoriaMetrics %.6g (diff %.3g, found %v)", v.name, v.class, v.ref, v.got, v.got-v.ref, v.found)
}

// soClient bounds every query and admin call of the test, so a process
// that stops answering fails it instead of hanging it.
var soClient = &http.Client{Timeout: 20 * time.Second}

// soQuery runs an instant query at time at and returns its samples keyed
// by their labels without __name__ (VictoriaMetrics keeps the name where
// Prometheus drops it, see soNamesKept) and without partition.
func soQuery(t *testing.T, api, query string, at time.Time) (map[string]float64, bool) {
	t.Helper()
	u := fmt.Sprintf("%s/api/v1/query?query=%s&time=%s", api, url.QueryEscape(query), strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64))
	resp, err := soClient.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("%s: %s: %v", api, query, err)
	}
	if r.Status != "success" {
		t.Fatalf("%s: query %s: %s", api, query, r.Error)
	}
	out := map[string]float64{}
	names := false
	for _, s := range r.Data.Result {
		var labels []string
		for k, v := range s.Metric {
			if k == "__name__" {
				names = true
				continue
			}
			labels = append(labels, k+"="+v)
		}
		slices.Sort(labels)
		str, _ := s.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			t.Fatalf("%s: %s: value %q: %v", api, query, str, err)
		}
		out[strings.Join(labels, ",")] += v
	}
	if names {
		soNamesKept[api+" "+query] = true
	}
	return out, len(r.Data.Result) > 0
}

// soNamesKept are the API and query pairs whose answer carried __name__
// (set by soQuery): a PromQL difference to report, harmless to KPIs,
// whose answers are compared by their other labels.
var soNamesKept = map[string]bool{}

// soCompare evaluates every KPI (window 1h, or none) and every connector
// total on both stores at the same time.
func soCompare(t *testing.T, refAPI, vmAPI string, families []catalogFamily) (vals []soValue, users float64) {
	t.Helper()
	at := time.Now().Add(-2 * time.Second)
	add := func(name string, class soClass, query string) {
		ref, refFound := soQuery(t, refAPI, query, at)
		got, gotFound := soQuery(t, vmAPI, query, at)
		keys := map[string]bool{}
		for k := range ref {
			keys[k] = true
		}
		for k := range got {
			keys[k] = true
		}
		if len(keys) == 0 {
			vals = append(vals, soValue{name: name, class: class})
			return
		}
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range keys {
				if !yield(k) {
					return
				}
			}
		}) {
			n := name
			if k != "" {
				n += "{" + k + "}"
			}
			r, rok := ref[k]
			g, gok := got[k]
			vals = append(vals, soValue{name: n, class: class, ref: r, got: g, found: [2]bool{rok && refFound, gok && gotFound}})
		}
	}
	for _, k := range kpi.All() {
		if k.ReadsStoredTelemetry() {
			// The reference Pulse's promstore stores its own receiver
			// counters; the scale-out store holds only what the shards
			// remote-write (the gateways' counters stay on their :8888).
			continue
		}
		window := "1h"
		if k.Window == "" {
			window = ""
		}
		q, err := k.Query(window)
		if err != nil {
			t.Fatal(err)
		}
		add("kpi "+k.Name, soClassOf(k), q)
		if k.Name == "active_users" {
			if u, ok := soQuery(t, refAPI, q, at); ok {
				users = u[""]
			}
		}
	}
	// Cumulative totals: exact whatever the window, so what a window's
	// edge does in either store cannot hide a difference.
	for _, f := range families {
		if !soConnectorFamily(f) {
			continue
		}
		switch {
		case f.histogram:
			countClass, sumClass := soExact, soExact
			switch f.prom {
			case "pulse_event_freshness_seconds":
				countClass, sumClass = soLatency, soLatency
			case "pulse_event_timeliness_seconds":
				sumClass = soLatency
			}
			add("total "+f.prom+"_count", countClass, "sum("+f.prom+"_count)")
			add("total "+f.prom+"_sum", sumClass, "sum("+f.prom+"_sum)")
		case strings.HasSuffix(f.prom, "_total"):
			class := soExact
			if f.prom == "pulse_events_duplicates_total" {
				class = soDup
			}
			add("total "+f.prom, class, "sum("+f.prom+")")
		}
	}
	return vals, users
}

// soConnectorFamily is whether f is made by the analytics_metrics
// connector (and so written by the shards, with the partition label),
// not by the receiver's snapshot endpoints (written by the gateways).
func soConnectorFamily(f catalogFamily) bool {
	for _, p := range []string{"pulse.ai.model.", "pulse.business.", "pulse.system."} {
		if strings.HasPrefix(f.otel, p) {
			return false
		}
	}
	return true
}

// soFailures returns the values out of tolerance.
func soFailures(vals []soValue, users float64) []string {
	var out []string
	for _, v := range vals {
		if !v.ok(users) {
			out = append(out, fmt.Sprintf("%s (tolerance %.3g)", v, soTolerance(v.class, v.ref, users)))
		}
	}
	return out
}

// soPartitionLabels checks that every connector series in VictoriaMetrics
// carries the partition label, and returns the partitions seen.
func soPartitionLabels(t *testing.T, vmAPI string, families []catalogFamily) (partitions []string, problems []string) {
	t.Helper()
	var names []string
	for _, f := range families {
		if soConnectorFamily(f) {
			n := f.prom
			if f.histogram {
				n += "_(bucket|sum|count)"
			}
			names = append(names, n)
		}
	}
	sel := `{__name__=~"(` + strings.Join(names, "|") + `)"`
	at := time.Now().Add(-2 * time.Second)
	if without, _ := soQuery(t, vmAPI, "count by (__name__) ("+sel+`, partition=""})`, at); len(without) > 0 {
		problems = append(problems, fmt.Sprintf("connector series without a partition label: %v", without))
	}
	by, _ := soQuery(t, vmAPI, "count by (partition) ("+sel+`})`, at)
	for k := range by {
		partitions = append(partitions, strings.TrimPrefix(k, "partition="))
	}
	slices.Sort(partitions)
	return partitions, problems
}
