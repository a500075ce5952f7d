package livepage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pulse-otel/pulse/internal/dashboards"
)

// rescanInterval is how often the directory is looked at for a new compile
// (a stat of the sidecar and of each JSON file); between two looks every
// request reads the dashboards in memory.
const rescanInterval = time.Second

// maxDashboardBytes bounds one compiled dashboard file read into memory.
const maxDashboardBytes = 8 << 20

// Dashboard is one compiled dashboard as the page and the streams see it.
type Dashboard struct {
	UID         string
	Title       string
	Description string
	Tags        []string
	Theme       string
	// JSON is the compiled Grafana dashboard, served as it is on disk.
	JSON json.RawMessage
	// Panels are the panels that have a query, rows flattened.
	Panels []Panel
	// Access is the sidecar's owner, editors, viewers and isPublic.
	Access dashboards.MetaEntry
}

// Panel is one panel's queries.
type Panel struct {
	ID   string
	Type string
	// Instant is true for the panel types drawn from one value per series
	// (stat, gauge, bargauge, table), false for timeseries.
	Instant bool
	Targets []Target
}

// Target is one visible query of a panel: RefID is the visible target's,
// Expr the expression evaluated (the hidden raw one when the panel has it).
type Target struct {
	RefID string
	Expr  string
}

// catalog is one load of the directory.
type catalog struct {
	byUID map[string]*Dashboard
	// sorted is byUID by title, then uid.
	sorted []*Dashboard
	// problem says why the directory holds no dashboard, or which files
	// could not be read.
	problem string
}

// store reads the directory `pulsectl dashboards compile --out DIR` wrote,
// and reads it again when a compile changed it.
type store struct {
	dir string
	now func() time.Time

	mu      sync.Mutex
	cat     *catalog
	sig     string
	checked time.Time
}

func newStore(dir string, now func() time.Time) *store {
	return &store{dir: dir, now: now}
}

// get returns the current catalog, re-reading the directory when its
// files changed since the last look (at most once per rescanInterval).
func (s *store) get() *catalog {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.cat != nil && now.Sub(s.checked) < rescanInterval {
		return s.cat
	}
	s.checked = now
	sig := s.signature()
	if s.cat != nil && sig == s.sig {
		return s.cat
	}
	s.cat, s.sig = s.load(), sig
	return s.cat
}

// signature is the names, sizes and modification times of the sidecar
// and the JSON files: a compile changes at least one of them.
func (s *store) signature() string {
	var b strings.Builder
	add := func(path string) {
		fi, err := os.Stat(path)
		if err != nil {
			b.WriteString(path + ":missing;")
			return
		}
		fmt.Fprintf(&b, "%s:%d:%d;", path, fi.Size(), fi.ModTime().UnixNano())
	}
	add(filepath.Join(s.dir, dashboards.MetaFile))
	entries, _ := os.ReadDir(filepath.Join(s.dir, dashboards.DashboardsDir))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			add(filepath.Join(s.dir, dashboards.DashboardsDir, e.Name()))
		}
	}
	return b.String()
}

// noDashboards is the problem text when nothing was compiled into dir.
func noDashboards(dir string) string {
	return fmt.Sprintf("no compiled dashboards in %s: run pulsectl dashboards compile --out %s DEFINITIONS...", dir, dir)
}

func (s *store) load() *catalog {
	cat := &catalog{byUID: map[string]*Dashboard{}}
	b, err := os.ReadFile(filepath.Join(s.dir, dashboards.MetaFile))
	if errors.Is(err, fs.ErrNotExist) {
		cat.problem = noDashboards(s.dir)
		return cat
	}
	if err != nil {
		cat.problem = fmt.Sprintf("cannot read %s in %s", dashboards.MetaFile, s.dir)
		return cat
	}
	var meta struct {
		Dashboards []dashboards.MetaEntry `yaml:"dashboards"`
	}
	if err := yaml.Unmarshal(b, &meta); err != nil {
		cat.problem = fmt.Sprintf("%s in %s is not valid YAML: compile the dashboards again", dashboards.MetaFile, s.dir)
		return cat
	}
	var bad []string
	for _, m := range meta.Dashboards {
		d, err := s.loadOne(m)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		cat.byUID[d.UID] = d
		cat.sorted = append(cat.sorted, d)
	}
	sort.Slice(cat.sorted, func(i, j int) bool {
		a, b := cat.sorted[i], cat.sorted[j]
		if a.Title != b.Title {
			return a.Title < b.Title
		}
		return a.UID < b.UID
	})
	switch {
	case len(bad) > 0:
		cat.problem = "some dashboards could not be read: " + strings.Join(bad, "; ")
	case len(cat.sorted) == 0:
		cat.problem = noDashboards(s.dir)
	}
	return cat
}

// grafanaJSON is the part of a compiled dashboard the server reads.
type grafanaJSON struct {
	UID         string         `json:"uid"`
	Title       string         `json:"title"`
	Description string         `json:"description"`
	Tags        []string       `json:"tags"`
	Panels      []grafanaPanel `json:"panels"`
}

type grafanaPanel struct {
	ID      json.Number     `json:"id"`
	Type    string          `json:"type"`
	Targets []grafanaTarget `json:"targets"`
	// Panels are a row's panels.
	Panels []grafanaPanel `json:"panels"`
}

type grafanaTarget struct {
	RefID string `json:"refId"`
	Expr  string `json:"expr"`
	Hide  bool   `json:"hide"`
}

// loadOne reads the JSON file of one sidecar entry; its errors name the
// file, which the operator's compile chose.
func (s *store) loadOne(m dashboards.MetaEntry) (*Dashboard, error) {
	if m.UID == "" || m.File == "" || !filepath.IsLocal(m.File) {
		return nil, fmt.Errorf("%s: an entry without uid or with a file outside the directory", dashboards.MetaFile)
	}
	f, err := os.Open(filepath.Join(s.dir, m.File))
	if err != nil {
		return nil, fmt.Errorf("%s: cannot open", m.File)
	}
	defer func() { _ = f.Close() }()
	b, err := io.ReadAll(io.LimitReader(f, maxDashboardBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read", m.File)
	}
	if len(b) > maxDashboardBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", m.File, maxDashboardBytes)
	}
	var g grafanaJSON
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, fmt.Errorf("%s: not a dashboard JSON", m.File)
	}
	if g.UID != m.UID {
		return nil, fmt.Errorf("%s: uid differs from the sidecar's", m.File)
	}
	theme := m.Theme
	if theme != "light" {
		theme = "dark"
	}
	return &Dashboard{
		UID: m.UID, Title: g.Title, Description: g.Description, Tags: g.Tags, Theme: theme,
		JSON: b, Panels: panels(g.Panels, nil), Access: m,
	}, nil
}

// instantTypes are the panel types drawn from one value per series.
var instantTypes = []string{"stat", "gauge", "bargauge", "table"}

// panels flattens rows and keeps the panels with at least one visible
// target; a panel's hidden "raw" target replaces the visible one's
// expression (the recorded series updates once a minute, the raw
// expression is live).
func panels(ps []grafanaPanel, out []Panel) []Panel {
	for _, p := range ps {
		if p.Type == "row" {
			out = panels(p.Panels, out)
			continue
		}
		raw := ""
		for _, t := range p.Targets {
			if t.RefID == dashboards.RawRefID && t.Hide {
				raw = t.Expr
			}
		}
		var targets []Target
		for _, t := range p.Targets {
			if t.Hide || strings.TrimSpace(t.Expr) == "" {
				continue
			}
			expr := t.Expr
			if raw != "" {
				expr = raw
			}
			targets = append(targets, Target{RefID: t.RefID, Expr: expr})
		}
		if len(targets) == 0 {
			continue
		}
		id := p.ID.String()
		if _, err := strconv.ParseInt(id, 10, 64); err != nil {
			continue
		}
		out = append(out, Panel{ID: id, Type: p.Type, Instant: slices.Contains(instantTypes, p.Type), Targets: targets})
	}
	return out
}
