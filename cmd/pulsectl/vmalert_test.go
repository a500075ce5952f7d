package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulse-otel/pulse/internal/docstest"
	"github.com/pulse-otel/pulse/internal/testutil/vmtest"
)

// vmalertGroups returns the rule groups vmalert evaluates, as name:rules.
func vmalertGroups(t *testing.T, u string) []string {
	t.Helper()
	resp, err := http.Get(u + "/api/v1/rules")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string
		Data   struct {
			Groups []struct {
				Name  string
				Rules []struct{ Name string }
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
		t.Fatalf("GET /api/v1/rules: %v, status %q", err, r.Status)
	}
	var names []string
	for _, g := range r.Data.Groups {
		names = append(names, fmt.Sprintf("%s:%d", g.Name, len(g.Rules)))
	}
	slices.Sort(names)
	return names
}

// TestSyncVMAlert syncs config/alerts to a real vmalert over a real
// victoria-metrics: the groups load, every rule evaluates on
// VictoriaMetrics without error (MetricsQL accepts the compiled PromQL), a
// second sync changes nothing, removed definitions remove their group, and
// a file vmalert rejects or a vmalert reading another directory is an
// error that says so.
func TestSyncVMAlert(t *testing.T) {
	store := vmtest.StartStore(t)
	rulesDir := t.TempDir()
	// -rule.validateTemplates as well as the default expression check:
	// the annotations use Prometheus template functions.
	alert := vmtest.StartAlert(t, filepath.Join(rulesDir, "*.yaml"), store.URL, "-evaluationInterval=1s", "-rule.validateTemplates")
	if got := vmalertGroups(t, alert.URL); len(got) != 0 {
		t.Fatalf("groups before sync: %v", got)
	}
	src := copyDefaults(t)
	sync := func() string {
		t.Helper()
		code, out, errs := runCmd("rules", "sync", "--vmalert-rules-dir", rulesDir, "--vmalert-url", alert.URL, src)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		return out
	}

	path := filepath.Join(rulesDir, "pulse-rules.yaml")
	out := sync()
	if want := "wrote " + path + ": created group pulse-every-1m; created group pulse-every-5m\nreloaded vmalert at " + alert.URL + "; vmalert evaluates the 2 groups\n"; out != want {
		t.Errorf("first sync:\n%q\nwant\n%q", out, want)
	}
	want := goldenGroups(t)
	got := vmalertGroups(t, alert.URL)
	if !slices.Equal(got, want) {
		t.Errorf("loaded groups %v, want %v", got, want)
	}
	// The groups' own intervals (1m, 5m) win over -evaluationInterval, and
	// vmalert evaluates a group first at a random offset within its
	// interval; restart-free, the 5m group may take up to 5 minutes. So
	// wait for the 1m group only (bounded), and require every rule in it
	// to have run without error on VictoriaMetrics.
	ok1m := func() bool {
		resp, err := http.Get(alert.URL + "/api/v1/rules")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var r struct {
			Data struct {
				Groups []struct {
					Name  string
					Rules []struct {
						Health, LastError string
						LastEvaluation    time.Time
					}
				}
			}
		}
		if json.NewDecoder(resp.Body).Decode(&r) != nil {
			return false
		}
		for _, g := range r.Data.Groups {
			if g.Name != "pulse-every-1m" {
				continue
			}
			for _, x := range g.Rules {
				if x.LastError != "" {
					t.Fatalf("rule of %s failed on VictoriaMetrics: %s", g.Name, x.LastError)
				}
				if x.Health != "ok" || x.LastEvaluation.IsZero() {
					return false
				}
			}
			return len(g.Rules) > 0
		}
		return false
	}
	deadline := time.Now().Add(75 * time.Second)
	for !ok1m() {
		if time.Now().After(deadline) {
			t.Fatal("vmalert did not evaluate the pulse-every-1m group within 75s")
		}
		time.Sleep(200 * time.Millisecond)
	}

	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	out = sync()
	if out != path+": no change (2 groups); vmalert not reloaded; vmalert evaluates the 2 groups\n" {
		t.Errorf("second sync: %q", out)
	}
	if st2, _ := os.Stat(path); !st2.ModTime().Equal(st.ModTime()) {
		t.Error("second sync rewrote the file")
	}

	for _, f := range []string{"ai.yaml", "data-quality.json"} {
		if err := os.Remove(filepath.Join(src, f)); err != nil {
			t.Fatal(err)
		}
	}
	out = sync()
	if !strings.Contains(out, "updated group pulse-every-1m; deleted group pulse-every-5m") || !strings.Contains(out, "reloaded vmalert") {
		t.Errorf("third sync: %q", out)
	}
	if got := vmalertGroups(t, alert.URL); len(got) != 1 || !strings.HasPrefix(got[0], "pulse-every-1m:") {
		t.Errorf("after removing files: %v", got)
	}

	// A file vmalert rejects: vmalert keeps its previous rules and the
	// sync says so instead of reporting success. MetricsQL rejects no
	// compiled rule, so plant a broken second file in the directory.
	if err := os.WriteFile(filepath.Join(rulesDir, "broken.yaml"), []byte("groups:\n- name: broken\n  rules:\n  - alert: x\n    expr: sum(\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "ai.yaml"), mustRead(t, filepath.Join(defaults, "ai.yaml")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCmd("rules", "sync", "--vmalert-rules-dir", rulesDir, "--vmalert-url", alert.URL, src)
	if code != 1 || !strings.Contains(errs, "wrote "+path) || !strings.Contains(errs, "vmalert rejected the rules on reload (vmalert_config_last_reload_successful 0") {
		t.Errorf("rejected reload: exit %d, %q", code, errs)
	}
	if err := os.Remove(filepath.Join(rulesDir, "broken.yaml")); err != nil {
		t.Fatal(err)
	}

	// A vmalert that reads another directory: the file is written, the
	// groups never show (vmalert's own directory is emptied, so its reload
	// drops them), and the error names the flag to check and the groups
	// missing.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	code, _, errs = runCmd("rules", "sync", "--vmalert-rules-dir", other, "--vmalert-url", alert.URL, "--timeout", "5s", src)
	if code != 1 || !strings.Contains(errs, "is it started with -rule="+other+"/*.yaml?") || !strings.Contains(errs, "group pulse-every-1m is not loaded; group pulse-every-5m is not loaded") {
		t.Errorf("other directory: exit %d, %q", code, errs)
	}
}

// TestSyncVMAlertNotVMAlert: a URL that is not vmalert is named with the
// status it answered, without its whole body.
func TestSyncVMAlertNotVMAlert(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/-/reload" {
			return
		}
		http.Error(w, strings.Repeat("not vmalert ", 200), http.StatusNotFound)
	}))
	defer srv.Close()
	fake := srv.URL
	code, _, errs := runCmd("rules", "sync", "--vmalert-rules-dir", t.TempDir(), "--vmalert-url", fake, defaults)
	if code != 1 || !strings.Contains(errs, "GET "+fake+"/api/v1/rules: 404 Not Found") || len(errs) > 600 {
		t.Errorf("exit %d, %q", code, errs)
	}
}

func TestSyncVMAlertUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--vmalert-rules-dir", "d"}, "--vmalert-rules-dir and --vmalert-url go together"},
		{[]string{"--vmalert-url", "http://x"}, "--vmalert-rules-dir and --vmalert-url go together"},
		{[]string{"--vmalert-rules-dir", "d", "--vmalert-url", "http://x", "--prometheus-rules-dir", "p", "--prometheus-url", "http://y"}, "use one of"},
		{[]string{"--vmalert-rules-dir", "d", "--vmalert-url", "http://x", "--ruler-url", "http://y"}, "use one of"},
		{[]string{"--vmalert-rules-dir", "d", "--vmalert-url", "http://x", "--tenant", "a"}, "--tenant and --namespace apply to --ruler-url only"},
	} {
		args := append(append([]string{"rules", "sync"}, c.args...), defaults)
		if code, _, errs := runCmd(args...); code != 2 || !strings.Contains(errs, "pulsectl: rules sync: "+c.want) || !strings.Contains(errs, "--vmalert-rules-dir DIR --vmalert-url URL") {
			t.Errorf("%v: exit %d, %q", c.args, code, errs)
		}
	}
}

// docCommands returns the command lines of the first sh block of the
// section of docs/stores.md titled title, split into words (single quotes
// removed, as the shell does).
func docCommands(t *testing.T, title string) [][]string {
	t.Helper()
	sec := docstest.Section(string(mustRead(t, "../../docs/stores.md")), title)
	_, block, ok := strings.Cut(sec, "```sh\n")
	if !ok {
		t.Fatalf("docs/stores.md %q: no sh block", title)
	}
	block, _, _ = strings.Cut(block, "```")
	var out [][]string
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		var words []string
		for _, w := range strings.Fields(line) {
			words = append(words, strings.ReplaceAll(w, "'", ""))
		}
		out = append(out, words)
	}
	return out
}

// TestStoresDocVictoriaMetrics runs docs/stores.md's VictoriaMetrics
// commands as written, with only the hosts, ports and directories
// replaced by the test's: victoria-metrics, vmalert and pulsectl rules
// sync, which must load the compiled config/alerts into vmalert. The
// flags the other tests start victoria-metrics with (vmtest.StoreFlags)
// must be the documented ones.
func TestStoresDocVictoriaMetrics(t *testing.T) {
	cmds := docCommands(t, "## VictoriaMetrics")
	if len(cmds) != 3 || cmds[0][0] != "victoria-metrics" || cmds[1][0] != "vmalert" || cmds[2][0] != "bin/pulsectl" {
		t.Fatalf("docs/stores.md VictoriaMetrics commands: %q, want victoria-metrics, vmalert and bin/pulsectl lines", cmds)
	}
	for _, f := range vmtest.StoreFlags {
		if !slices.Contains(cmds[0], f) {
			t.Errorf("docs/stores.md runs victoria-metrics without %s, which the tests use (vmtest.StoreFlags)", f)
		}
	}
	data, rules := t.TempDir(), t.TempDir()
	am := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer am.Close()
	replace := func(words []string, pairs ...string) []string {
		r := strings.NewReplacer(pairs...)
		out := make([]string, len(words))
		for i, w := range words {
			out[i] = r.Replace(w)
		}
		return out
	}
	store := vmtest.Run(t, vmtest.Binary(t, "victoria-metrics"), func(addr string, _ int) []string {
		return replace(cmds[0][1:], "/var/lib/victoria-metrics", data, "localhost:8428", addr)
	})
	storeAddr := strings.TrimPrefix(store.URL, "http://")
	alert := vmtest.Run(t, vmtest.Binary(t, "vmalert"), func(addr string, _ int) []string {
		return replace(cmds[1][1:], "/etc/pulse/vmalert", rules, "localhost:8428", storeAddr,
			"http://localhost:9093", am.URL, "localhost:8880", addr)
	})
	args := replace(cmds[2][1:], "/etc/pulse/vmalert", rules, "http://localhost:8880", alert.URL, "config/alerts", defaults)
	code, out, errs := runCmd(args...)
	if code != 0 || !strings.Contains(out, "reloaded vmalert at "+alert.URL+"; vmalert evaluates the 2 groups") {
		t.Errorf("%q: exit %d\n%s%s", args, code, out, errs)
	}
}
