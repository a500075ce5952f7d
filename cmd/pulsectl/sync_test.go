package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/pulse-otel/pulse/internal/testutil"
)

// copyDefaults copies config/alerts into a temporary directory, so that
// tests can remove files from it.
func copyDefaults(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ents, err := os.ReadDir(defaults)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(defaults, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func freePort(t *testing.T) int {
	t.Helper()
	_, port, _ := net.SplitHostPort(testutil.FreeAddr(t))
	p, _ := strconv.Atoi(port)
	return p
}

// startPrometheus runs the prometheus binary on a free loopback port with
// rule_files pointing at rulesDir/*.yaml and returns its URL.
func startPrometheus(t *testing.T, rulesDir string) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		msg := "prometheus not on PATH (Debian package prometheus; .ci/run installs it)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("global:\n  evaluation_interval: 1m\nrule_files:\n  - %q\n", filepath.Join(rulesDir, "*.yaml"))), 0o644); err != nil {
		t.Fatal(err)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		var logs bytes.Buffer
		cmd := exec.Command(bin,
			"--config.file="+cfg,
			"--web.listen-address="+addr,
			"--web.enable-lifecycle",
			"--storage.tsdb.path="+filepath.Join(dir, fmt.Sprintf("data%d", attempt)),
		)
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		var once gosync.Once
		stop := func() {
			once.Do(func() {
				_ = cmd.Process.Kill()
				<-exited //nolint:errcheck // killed: the exit status is the kill's
			})
		}
		t.Cleanup(func() {
			stop()
			if t.Failed() {
				t.Logf("prometheus log:\n%s", logs.String())
			}
		})
		u := "http://" + addr
		gone := false
		require.Eventually(t, func() bool {
			select {
			case err := <-exited:
				exited <- err
				lastErr = fmt.Errorf("prometheus exited: %v\n%s", err, logs.String())
				gone = true
				return true
			default:
			}
			resp, err := http.Get(u + "/-/ready")
			if err != nil {
				return false
			}
			_ = resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		}, 30*time.Second, 100*time.Millisecond, "prometheus at %s not ready after 30s", u)
		if !gone {
			return u
		}
		stop()
	}
	t.Fatal(lastErr)
	return ""
}

// promGroups returns the rule group names Prometheus has loaded.
func promGroups(t *testing.T, u string) []string {
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

func TestSyncPrometheus(t *testing.T) {
	rulesDir := t.TempDir()
	u := startPrometheus(t, rulesDir)
	if got := promGroups(t, u); len(got) != 0 {
		t.Fatalf("groups before sync: %v", got)
	}
	src := copyDefaults(t)
	sync := func() string {
		t.Helper()
		code, out, errs := runCmd("rules", "sync", "--prometheus-rules-dir", rulesDir, "--prometheus-url", u, src)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		return out
	}

	out := sync()
	path := filepath.Join(rulesDir, "pulse-rules.yaml")
	if !strings.Contains(out, "wrote "+path+": created group pulse-every-1m; created group pulse-every-5m") || !strings.Contains(out, "reloaded Prometheus") {
		t.Errorf("first sync: %q", out)
	}
	// config/alerts compiles to 7 alerts with escalation copies; compare
	// with the golden file rather than hard-coding the counts.
	want := goldenGroups(t)
	if got := promGroups(t, u); !slices.Equal(got, want) {
		t.Errorf("loaded groups %v, want %v", got, want)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}

	out = sync()
	if out != path+": no change (2 groups); Prometheus not reloaded\n" {
		t.Errorf("second sync: %q", out)
	}
	if st2, _ := os.Stat(path); !st2.ModTime().Equal(st.ModTime()) {
		t.Error("second sync rewrote the file")
	}

	// Only 1m rules left: the 5m group goes away.
	for _, f := range []string{"ai.yaml", "data-quality.json"} {
		if err := os.Remove(filepath.Join(src, f)); err != nil {
			t.Fatal(err)
		}
	}
	out = sync()
	if !strings.Contains(out, "updated group pulse-every-1m; deleted group pulse-every-5m") || !strings.Contains(out, "reloaded") {
		t.Errorf("third sync: %q", out)
	}
	if got := promGroups(t, u); len(got) != 1 || !strings.HasPrefix(got[0], "pulse-every-1m:") {
		t.Errorf("after removing files: %v", got)
	}
	if ents, _ := os.ReadDir(rulesDir); len(ents) != 1 {
		t.Errorf("rules dir holds %d entries, want only pulse-rules.yaml", len(ents))
	}
}

func goldenGroups(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../internal/alertrules/testdata/rules.yaml.golden")
	if err != nil {
		t.Fatal(err)
	}
	var g rulefmt.RuleGroups
	if err := yaml.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, x := range g.Groups {
		names = append(names, fmt.Sprintf("%s:%d", x.Name, len(x.Rules)))
	}
	slices.Sort(names)
	return names
}

func TestSyncPrometheusReloadFails(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Lifecycle API is not enabled.", http.StatusForbidden)
	}))
	defer srv.Close()
	code, _, errs := runCmd("rules", "sync", "--prometheus-rules-dir", t.TempDir(), "--prometheus-url", srv.URL, defaults)
	if code != 1 || !strings.Contains(errs, "POST "+srv.URL+"/-/reload: 403 Forbidden") || !strings.Contains(errs, "Lifecycle API is not enabled") || !strings.Contains(errs, "--web.enable-lifecycle") {
		t.Errorf("exit %d, %q", code, errs)
	}
}

// fakeRuler implements the Mimir ruler configuration API in memory.
type fakeRuler struct {
	mu       gosync.Mutex
	tenants  map[string]map[string]map[string]string // tenant → namespace → group → YAML
	requests []string                                // "METHOD path tenant"
	fail     int                                     // status to answer POSTs with, if not 0
}

const rulerPrefix = "/prometheus/config/v1/rules/"

func (f *fakeRuler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tenant := r.Header.Get("X-Scope-OrgID")
	f.requests = append(f.requests, r.Method+" "+r.URL.EscapedPath()+" "+tenant)
	if tenant == "" {
		http.Error(w, "no org id", http.StatusUnauthorized)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, rulerPrefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	ns, group, _ := strings.Cut(rest, "/")
	if f.tenants == nil {
		f.tenants = map[string]map[string]map[string]string{}
	}
	if f.tenants[tenant] == nil {
		f.tenants[tenant] = map[string]map[string]string{}
	}
	nss := f.tenants[tenant]
	switch {
	case r.Method == http.MethodGet && group == "":
		if len(nss[ns]) == 0 {
			http.Error(w, "no rule groups found", http.StatusNotFound)
			return
		}
		var gs []yaml.Node
		for _, name := range slices.Sorted(maps.Keys(nss[ns])) {
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(nss[ns][name]), &n); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			gs = append(gs, *n.Content[0])
		}
		w.Header().Set("Content-Type", "application/yaml")
		_ = yaml.NewEncoder(w).Encode(map[string][]yaml.Node{ns: gs})
	case r.Method == http.MethodPost && group == "":
		if f.fail != 0 {
			http.Error(w, "per-user rules per rule group limit (limit: 1) exceeded", f.fail)
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/yaml" {
			http.Error(w, "bad content type "+ct, http.StatusBadRequest)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var g rulefmt.RuleGroup
		if err := yaml.Unmarshal(b, &g); err != nil || g.Name == "" || len(g.Rules) == 0 {
			http.Error(w, fmt.Sprintf("bad group: %v", err), http.StatusBadRequest)
			return
		}
		if nss[ns] == nil {
			nss[ns] = map[string]string{}
		}
		// Store it re-encoded, as Mimir does, so formatting differs from
		// what was sent.
		var n yaml.Node
		_ = yaml.Unmarshal(b, &n)
		out, _ := yaml.Marshal(&n)
		nss[ns][g.Name] = string(out)
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodDelete && group != "":
		if _, ok := nss[ns][group]; !ok {
			http.Error(w, "group does not exist", http.StatusNotFound)
			return
		}
		delete(nss[ns], group)
		w.WriteHeader(http.StatusAccepted)
	default:
		http.Error(w, "unsupported", http.StatusMethodNotAllowed)
	}
}

func (f *fakeRuler) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.requests
	f.requests = nil
	return r
}

func (f *fakeRuler) groups(tenant, ns string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.tenants[tenant][ns]))
}

func TestSyncRuler(t *testing.T) {
	fake := &fakeRuler{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	src := copyDefaults(t)
	sync := func(extra ...string) string {
		t.Helper()
		args := append([]string{"rules", "sync", "--ruler-url", srv.URL + "/", "--tenant", "team-a"}, extra...)
		code, out, errs := runCmd(append(args, src)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		return out
	}
	ns := "/prometheus/config/v1/rules/pulse"

	out := sync()
	if out != "ruler "+srv.URL+"/ namespace pulse, tenant team-a: created group pulse-every-1m; created group pulse-every-5m\n" {
		t.Errorf("first sync: %q", out)
	}
	if got, want := fake.take(), []string{"GET " + ns + " team-a", "POST " + ns + " team-a", "POST " + ns + " team-a"}; !slices.Equal(got, want) {
		t.Errorf("first sync requests %q, want %q", got, want)
	}
	if got := fake.groups("team-a", "pulse"); !slices.Equal(got, []string{"pulse-every-1m", "pulse-every-5m"}) {
		t.Errorf("stored groups %v", got)
	}

	out = sync()
	if !strings.HasSuffix(out, ": no change (2 groups)\n") {
		t.Errorf("second sync: %q", out)
	}
	if got := fake.take(); !slices.Equal(got, []string{"GET " + ns + " team-a"}) {
		t.Errorf("second sync made requests beyond the GET: %q", got)
	}

	for _, f := range []string{"ai.yaml", "data-quality.json"} {
		if err := os.Remove(filepath.Join(src, f)); err != nil {
			t.Fatal(err)
		}
	}
	out = sync()
	if !strings.HasSuffix(out, ": updated group pulse-every-1m; deleted group pulse-every-5m\n") {
		t.Errorf("third sync: %q", out)
	}
	if got, want := fake.take(), []string{"GET " + ns + " team-a", "POST " + ns + " team-a", "DELETE " + ns + "/pulse-every-5m team-a"}; !slices.Equal(got, want) {
		t.Errorf("third sync requests %q, want %q", got, want)
	}
	if got := fake.groups("team-a", "pulse"); !slices.Equal(got, []string{"pulse-every-1m"}) {
		t.Errorf("stored groups %v", got)
	}

	// Another namespace is independent.
	out = sync("--namespace", "other")
	if !strings.Contains(out, "namespace other, tenant team-a: created group pulse-every-1m") {
		t.Errorf("other namespace: %q", out)
	}
	fake.take()

	// Errors name the URL, the status and the body.
	fake.mu.Lock()
	fake.fail = http.StatusBadRequest
	fake.mu.Unlock()
	if err := os.WriteFile(filepath.Join(src, "ai.yaml"), mustRead(t, filepath.Join(defaults, "ai.yaml")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCmd("rules", "sync", "--ruler-url", srv.URL, "--tenant", "team-a", src)
	if code != 1 || !strings.Contains(errs, "POST "+srv.URL+ns+": 400 Bad Request") || !strings.Contains(errs, "limit (limit: 1) exceeded") {
		t.Errorf("failed POST: exit %d, %q", code, errs)
	}
	// Without a tenant the fake answers 401 to the GET.
	code, _, errs = runCmd("rules", "sync", "--ruler-url", srv.URL, src)
	if code != 1 || !strings.Contains(errs, "GET "+srv.URL+ns+": 401 Unauthorized") || !strings.Contains(errs, "no org id") {
		t.Errorf("no tenant: exit %d, %q", code, errs)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
