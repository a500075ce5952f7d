// Package rulesync uploads compiled Pulse alert rules to a running rule
// evaluator: a Prometheus server that reads rule files from a directory
// (Prometheus), VictoriaMetrics' vmalert, which does the same (VMAlert), or
// the ruler API of Mimir or Cortex (Ruler). Thanos Ruler reads files too
// and reloads like Prometheus, so Prometheus serves it.
//
// The file modes share one writer; vmalert's differs in what happens after
// the write, because its reload answers before it has read the file and a
// file it rejects leaves its old rules running: VMAlert waits for the
// reload and checks the rules API, where Prometheus' reload answers with
// the outcome.
//
// Both are idempotent: they compare what is there with what should be there
// and change only the difference, so a second run with the same input
// changes nothing.
package rulesync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/rulefmt"
	"go.yaml.in/yaml/v3"

	"github.com/pulse-otel/pulse/internal/alertrules"
)

// PrometheusRulesFile is the file Prometheus and VMAlert write in the rules
// directory.
const PrometheusRulesFile = "pulse-rules.yaml"

// DefaultNamespace is the ruler namespace the groups go to by default.
const DefaultNamespace = "pulse"

// DefaultTimeout bounds each HTTP request when the caller's client has none.
const DefaultTimeout = 30 * time.Second

// Changes lists rule groups by what a sync did to them; names are sorted.
type Changes struct {
	Created, Updated, Deleted, Unchanged []string
}

// Changed reports whether anything was created, updated or deleted.
func (c Changes) Changed() bool {
	return len(c.Created)+len(c.Updated)+len(c.Deleted) > 0
}

// String describes the changes, e.g. "created group a; updated group b"
// or "no change (2 groups)".
func (c Changes) String() string {
	if !c.Changed() {
		return fmt.Sprintf("no change (%d groups)", len(c.Unchanged))
	}
	var parts []string
	for _, p := range []struct {
		verb  string
		names []string
	}{{"created", c.Created}, {"updated", c.Updated}, {"deleted", c.Deleted}} {
		for _, n := range p.names {
			parts = append(parts, p.verb+" group "+n)
		}
	}
	s := strings.Join(parts, "; ")
	if len(c.Unchanged) > 0 {
		s += fmt.Sprintf("; %d unchanged", len(c.Unchanged))
	}
	return s
}

// normalize renders a group in a canonical form for comparison, so that
// formatting, unknown fields and nil versus empty maps do not count as
// differences.
func normalize(g rulefmt.RuleGroup) ([]byte, error) {
	return yaml.Marshal(g)
}

// diff compares the current groups with the wanted ones by name and
// canonical content.
func diff(current, want []rulefmt.RuleGroup) (Changes, error) {
	cur := map[string][]byte{}
	for _, g := range current {
		b, err := normalize(g)
		if err != nil {
			return Changes{}, err
		}
		cur[g.Name] = b
	}
	var c Changes
	seen := map[string]bool{}
	for _, g := range want {
		seen[g.Name] = true
		b, err := normalize(g)
		if err != nil {
			return Changes{}, err
		}
		old, ok := cur[g.Name]
		switch {
		case !ok:
			c.Created = append(c.Created, g.Name)
		case !bytes.Equal(old, b):
			c.Updated = append(c.Updated, g.Name)
		default:
			c.Unchanged = append(c.Unchanged, g.Name)
		}
	}
	for name := range cur {
		if !seen[name] {
			c.Deleted = append(c.Deleted, name)
		}
	}
	for _, s := range []*[]string{&c.Created, &c.Updated, &c.Deleted, &c.Unchanged} {
		slices.Sort(*s)
	}
	return c, nil
}

// PrometheusOptions configures Prometheus.
type PrometheusOptions struct {
	// RulesDir is a directory matched by a rule_files glob of the
	// Prometheus configuration; PrometheusRulesFile is written there.
	RulesDir string
	// URL is the Prometheus base URL; it must run with
	// --web.enable-lifecycle for POST URL/-/reload to work.
	URL string
	// Client defaults to an http.Client with DefaultTimeout.
	Client *http.Client
}

// PrometheusResult is what Prometheus or VMAlert did.
type PrometheusResult struct {
	Path     string // the rules file
	Changes  Changes
	Written  bool // the file's bytes changed
	Reloaded bool // Prometheus was told to reload
}

// Prometheus writes groups to RulesDir/pulse-rules.yaml if its bytes
// differ from the file there, and then asks Prometheus to reload. When the
// file is already up to date it neither writes nor reloads.
func Prometheus(ctx context.Context, o PrometheusOptions, groups rulefmt.RuleGroups) (PrometheusResult, error) {
	if o.RulesDir == "" || o.URL == "" {
		return PrometheusResult{}, errors.New("sync: Prometheus needs a rules directory and a URL")
	}
	res, err := writeRules(o.RulesDir, groups)
	if err != nil || !res.Written {
		return res, err
	}
	u := strings.TrimRight(o.URL, "/") + "/-/reload"
	if _, err := do(ctx, client(o.Client), http.MethodPost, u, nil, nil, http.StatusOK); err != nil {
		return res, fmt.Errorf("wrote %s but the reload failed (is Prometheus running with --web.enable-lifecycle?): %w", res.Path, err)
	}
	res.Reloaded = true
	return res, nil
}

// writeRules writes groups to dir/PrometheusRulesFile if its bytes differ
// from the file there, and says what changed. It is the file half of the
// Prometheus and vmalert modes, which differ only in how the evaluator is
// told.
func writeRules(dir string, groups rulefmt.RuleGroups) (PrometheusResult, error) {
	res := PrometheusResult{Path: filepath.Join(dir, PrometheusRulesFile)}
	data, err := alertrules.MarshalRules(groups)
	if err != nil {
		return res, err
	}
	old, err := os.ReadFile(res.Path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return res, err
	}
	var current rulefmt.RuleGroups
	if len(old) > 0 {
		if err := yaml.Unmarshal(old, &current); err != nil {
			// An unreadable file is replaced; report every group as created.
			current = rulefmt.RuleGroups{}
		}
	}
	if res.Changes, err = diff(current.Groups, groups.Groups); err != nil {
		return res, err
	}
	if bytes.Equal(old, data) {
		return res, nil
	}
	if !res.Changes.Changed() {
		// Same groups, different bytes (e.g. a new header): still rewrite
		// so the file matches, and reload to be safe.
		res.Changes.Updated, res.Changes.Unchanged = res.Changes.Unchanged, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, err
	}
	if err := writeAtomic(res.Path, data); err != nil {
		return res, err
	}
	res.Written = true
	return res, nil
}

// writeAtomic writes data to a hidden temporary file next to path (so that
// rule_files globs such as *.yaml do not match it) and renames it over path.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp) // best effort: the write already failed
	}
	return err
}

// RulerOptions configures Ruler.
type RulerOptions struct {
	// URL is the Mimir or Cortex base URL (the ruler API is under
	// URL/prometheus/config/v1/rules).
	URL string
	// Tenant is sent as X-Scope-OrgID on every request when not empty.
	Tenant string
	// Namespace holds the groups; groups in it that are not wanted are
	// deleted. Default DefaultNamespace.
	Namespace string
	// Client defaults to an http.Client with DefaultTimeout.
	Client *http.Client
}

// RulerResult is what Ruler did.
type RulerResult struct {
	Namespace string
	Changes   Changes
}

// Ruler makes the namespace of a Mimir or Cortex ruler hold exactly groups:
// it GETs the namespace, POSTs the new and changed groups and DELETEs the
// groups that are no longer wanted. When nothing differs, the GET is the
// only request.
func Ruler(ctx context.Context, o RulerOptions, groups rulefmt.RuleGroups) (RulerResult, error) {
	if o.URL == "" {
		return RulerResult{}, errors.New("sync: Ruler needs a URL")
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	res := RulerResult{Namespace: o.Namespace}
	if _, err := alertrules.MarshalRules(groups); err != nil {
		return res, err
	}
	hc := client(o.Client)
	hdr := http.Header{}
	if o.Tenant != "" {
		hdr.Set("X-Scope-OrgID", o.Tenant)
	}
	nsURL := strings.TrimRight(o.URL, "/") + "/prometheus/config/v1/rules/" + pathEscape(o.Namespace)

	body, err := do(ctx, hc, http.MethodGet, nsURL, hdr, nil, http.StatusOK, http.StatusNotFound)
	if err != nil {
		return res, err
	}
	var current map[string][]rulefmt.RuleGroup
	if body != nil {
		if err := yaml.Unmarshal(body, &current); err != nil {
			return res, fmt.Errorf("GET %s: response is not a YAML map of namespace to rule groups: %w (body: %s)", nsURL, err, excerpt(body))
		}
	}
	if res.Changes, err = diff(current[o.Namespace], groups.Groups); err != nil {
		return res, err
	}
	byName := map[string]rulefmt.RuleGroup{}
	for _, g := range groups.Groups {
		byName[g.Name] = g
	}
	postHdr := hdr.Clone()
	postHdr.Set("Content-Type", "application/yaml")
	for _, name := range append(slices.Clone(res.Changes.Created), res.Changes.Updated...) {
		b, err := yaml.Marshal(byName[name])
		if err != nil {
			return res, err
		}
		if _, err := do(ctx, hc, http.MethodPost, nsURL, postHdr, b, http.StatusAccepted, http.StatusOK, http.StatusCreated, http.StatusNoContent); err != nil {
			return res, fmt.Errorf("group %s: %w", name, err)
		}
	}
	for _, name := range res.Changes.Deleted {
		u := nsURL + "/" + pathEscape(name)
		if _, err := do(ctx, hc, http.MethodDelete, u, hdr, nil, http.StatusAccepted, http.StatusOK, http.StatusNoContent, http.StatusNotFound); err != nil {
			return res, fmt.Errorf("group %s: %w", name, err)
		}
	}
	return res, nil
}

// pathEscape escapes a path segment, including "/", which url.PathEscape
// leaves alone in some forms.
func pathEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func client(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{Timeout: DefaultTimeout}
}

// do sends a request and returns the body of a response whose status is
// one of ok; a 404 that ok allows returns a nil body. Other statuses are
// errors naming the method, URL, status and the start of the body.
func do(ctx context.Context, hc *http.Client, method, u string, hdr http.Header, body []byte, ok ...int) ([]byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading response: %w", method, u, err)
	}
	if !slices.Contains(ok, resp.StatusCode) {
		return nil, fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, excerpt(b))
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	return b, nil
}

// excerpt returns the start of a response body for error messages.
func excerpt(b []byte) string {
	const limit = 300
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "(empty body)"
	}
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return fmt.Sprintf("%q", s)
}
