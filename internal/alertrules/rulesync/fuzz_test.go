package rulesync

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/prometheus/model/rulefmt"
	"go.yaml.in/yaml/v3"

	"github.com/pulse-otel/pulse/internal/alertrules"
)

// fakeRuler answers the ruler API in memory: GET returns get, POST and
// DELETE are recorded (group names), every other request is a 404.
type fakeRuler struct {
	mu            sync.Mutex
	get           []byte
	posts, delete []string
	reloads       int
}

func (f *fakeRuler) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	status, body := http.StatusOK, []byte(nil)
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/-/reload":
		f.reloads++
	case r.Method == http.MethodGet:
		body = f.get
	case r.Method == http.MethodPost:
		var g rulefmt.RuleGroup
		b, _ := io.ReadAll(r.Body)
		status = http.StatusAccepted
		if err := yaml.Unmarshal(b, &g); err != nil {
			status = http.StatusBadRequest
		}
		f.posts = append(f.posts, g.Name)
	case r.Method == http.MethodDelete:
		f.delete = append(f.delete, r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:])
		status = http.StatusAccepted
	default:
		status = http.StatusNotFound
	}
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Body: io.NopCloser(bytes.NewReader(body)), Header: http.Header{}, Request: r}, nil
}

func fuzzGroups(f *testing.F) (rulefmt.RuleGroups, []string) {
	f.Helper()
	rules, err := alertrules.Load("../../../config/alerts")
	if err != nil {
		f.Fatal(err)
	}
	g, err := alertrules.CompileRules(rules)
	if err != nil {
		f.Fatal(err)
	}
	var names []string
	for _, x := range g.Groups {
		names = append(names, x.Name)
	}
	slices.Sort(names)
	return g, names
}

// checkChanges asserts that a sync's changes account for every wanted
// group exactly once and delete none of them.
func checkChanges(t *testing.T, c Changes, want []string) {
	t.Helper()
	got := slices.Concat(c.Created, c.Updated, c.Unchanged)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("created+updated+unchanged = %v, want the compiled groups %v", got, want)
	}
	for _, d := range c.Deleted {
		if slices.Contains(want, d) {
			t.Fatalf("deleted group %s, which is wanted", d)
		}
	}
}

// FuzzRulerResponse feeds arbitrary bytes as the ruler's answer to the GET
// of the namespace that `pulsectl rules sync --ruler-url` reads. It must
// never panic; an error stays short (the ruler's body is quoted, at most
// 300 bytes of it); a sync that succeeds posts exactly the created and
// updated groups, deletes exactly the deleted ones, never a wanted one;
// what it parsed survives a marshal and parse unchanged; and a second
// sync against the result changes nothing.
func FuzzRulerResponse(f *testing.F) {
	groups, want := fuzzGroups(f)
	golden, _ := os.ReadFile("../testdata/rules.yaml.golden")
	var cur rulefmt.RuleGroups
	if err := yaml.Unmarshal(golden, &cur); err != nil {
		f.Fatal(err)
	}
	full, _ := yaml.Marshal(map[string][]rulefmt.RuleGroup{"pulse": cur.Groups})
	f.Add(full)
	f.Add([]byte("pulse:\n- name: stale\n  rules:\n  - alert: X\n    expr: vector(1)\n"))
	f.Add([]byte("pulse: []\nother:\n- name: a\n  rules: []\n"))
	f.Add([]byte(""))
	f.Add([]byte("not: [yaml"))
	f.Add([]byte("pulse:\n- name: pulse-every-1m\n  interval: 1x\n"))
	f.Add([]byte("- 1\n- 2\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		ruler := &fakeRuler{get: body}
		o := RulerOptions{URL: "http://ruler.test", Client: &http.Client{Transport: ruler}}
		res, err := Ruler(context.Background(), o, groups)
		if err != nil {
			if len(err.Error()) > 1200 {
				t.Fatalf("error of %d bytes for a %d-byte body", len(err.Error()), len(body))
			}
			return
		}
		checkChanges(t, res.Changes, want)
		posted := slices.Sorted(slices.Values(ruler.posts))
		if exp := slices.Sorted(slices.Values(slices.Concat(res.Changes.Created, res.Changes.Updated))); !slices.Equal(posted, exp) {
			t.Fatalf("posted %v, want the created and updated groups %v", posted, exp)
		}
		if !slices.Equal(slices.Sorted(slices.Values(ruler.delete)), slices.Sorted(slices.Values(res.Changes.Deleted))) {
			t.Fatalf("deleted %v, changes say %v", ruler.delete, res.Changes.Deleted)
		}
		// What was parsed round-trips: marshalled and parsed again, no
		// group differs.
		var parsed map[string][]rulefmt.RuleGroup
		if err := yaml.Unmarshal(body, &parsed); err == nil {
			again, err := yaml.Marshal(parsed)
			if err != nil {
				t.Fatalf("parsed groups do not marshal: %v", err)
			}
			var back map[string][]rulefmt.RuleGroup
			if err := yaml.Unmarshal(again, &back); err != nil {
				t.Fatalf("marshalled groups do not parse: %v\n%s", err, again)
			}
			if c, err := diff(parsed[DefaultNamespace], back[DefaultNamespace]); err != nil || c.Changed() {
				t.Fatalf("groups changed by a marshal and parse: %s (%v)", c, err)
			}
		}
		// The ruler now holds the compiled groups: nothing more to do.
		now, _ := yaml.Marshal(map[string][]rulefmt.RuleGroup{DefaultNamespace: groups.Groups})
		second := &fakeRuler{get: now}
		o.Client = &http.Client{Transport: second}
		res, err = Ruler(context.Background(), o, groups)
		if err != nil || res.Changes.Changed() || len(second.posts)+len(second.delete) > 0 {
			t.Fatalf("second sync: %s, %v; posts %v, deletes %v", res.Changes, err, second.posts, second.delete)
		}
	})
}

// FuzzPrometheusRulesFile feeds arbitrary bytes as the rules file that
// `pulsectl rules sync --prometheus-rules-dir` finds in place. Whatever it
// holds, the sync succeeds, leaves exactly the compiled rules in the file,
// writes and reloads only when the bytes differ, accounts for every wanted
// group, and a second sync changes nothing.
func FuzzPrometheusRulesFile(f *testing.F) {
	groups, want := fuzzGroups(f)
	golden, _ := os.ReadFile("../testdata/rules.yaml.golden")
	f.Add(golden)
	f.Add(append([]byte("# edited\n"), golden...))
	f.Add([]byte("groups:\n- name: stale\n  rules:\n  - alert: X\n    expr: vector(1)\n"))
	f.Add([]byte(""))
	f.Add([]byte("groups: {"))
	f.Add([]byte("\x00\xff"))
	data, err := alertrules.MarshalRules(groups)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, old []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, PrometheusRulesFile)
		if err := os.WriteFile(path, old, 0o644); err != nil {
			t.Fatal(err)
		}
		prom := &fakeRuler{}
		o := PrometheusOptions{RulesDir: dir, URL: "http://prometheus.test", Client: &http.Client{Transport: prom}}
		res, err := Prometheus(context.Background(), o, groups)
		if err != nil {
			t.Fatalf("sync over a rules file of %d bytes: %v", len(old), err)
		}
		if b, _ := os.ReadFile(path); !bytes.Equal(b, data) {
			t.Fatal("the rules file does not hold the compiled rules after the sync")
		}
		differs := !bytes.Equal(old, data)
		if res.Written != differs || res.Reloaded != differs || prom.reloads != map[bool]int{true: 1}[differs] {
			t.Fatalf("file differed %v: written %v, reloaded %v, %d reloads", differs, res.Written, res.Reloaded, prom.reloads)
		}
		checkChanges(t, res.Changes, want)
		res, err = Prometheus(context.Background(), o, groups)
		if err != nil || res.Written || res.Changes.Changed() {
			t.Fatalf("second sync: %+v, %v", res, err)
		}
	})
}
