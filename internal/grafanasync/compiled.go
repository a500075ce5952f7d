package grafanasync

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/pulse-otel/pulse/internal/dashboards"
)

// MarkerPrefix starts the tag that marks a dashboard sync manages; the rest
// of the tag is the dashboard's Hash.
const MarkerPrefix = "pulse-sync:"

// Dashboard is one compiled dashboard to sync.
type Dashboard struct {
	UID, Title string
	// Hash is a hash of the compiled JSON without id and version; the
	// marker tag carries it, so an unchanged dashboard is not written.
	Hash string
	// Meta holds the permissions (and theme) from the sidecar file.
	Meta dashboards.MetaEntry
	json map[string]any // the compiled dashboard, without id and version
}

// Marker is the dashboard's marker tag.
func (d Dashboard) Marker() string { return MarkerPrefix + d.Hash }

// model returns the JSON to POST: the compiled dashboard with the marker
// tag, no id (Grafana finds it by uid) and the given version (0 to create).
func (d Dashboard) model(version int) map[string]any {
	m := make(map[string]any, len(d.json)+2)
	for k, v := range d.json {
		m[k] = v
	}
	tags, _ := m["tags"].([]any)
	m["tags"] = append(append([]any{}, tags...), d.Marker())
	m["id"] = nil
	if version > 0 {
		m["version"] = version
	}
	return m
}

// ReadDir reads the output of `pulsectl dashboards compile --out dir`: the
// sidecar file and the dashboard JSON files it lists.
func ReadDir(dir string) ([]Dashboard, error) {
	_, err := os.Stat(filepath.Join(dir, dashboards.MetaFile))
	if err != nil {
		return nil, fmt.Errorf("%w (is %s the output of pulsectl dashboards compile?)", err, dir)
	}
	return load(dir, func(name string) ([]byte, error) {
		return os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	})
}

// FromFiles reads the files of a compile (dashboards.CompileAll, by path
// relative to the output directory) without them being written.
func FromFiles(files map[string][]byte) ([]Dashboard, error) {
	return load("the compiled files", func(name string) ([]byte, error) {
		b, ok := files[name]
		if !ok {
			return nil, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
		}
		return b, nil
	})
}

// load reads the sidecar and the dashboards it lists through read, which
// takes a slash-separated path relative to where (for messages).
func load(where string, read func(string) ([]byte, error)) ([]Dashboard, error) {
	b, err := read(dashboards.MetaFile)
	if err != nil {
		return nil, err
	}
	var meta struct {
		Dashboards []dashboards.MetaEntry `yaml:"dashboards"`
	}
	if err := yaml.Unmarshal(b, &meta); err != nil {
		return nil, fmt.Errorf("%s in %s: %w", dashboards.MetaFile, where, err)
	}
	out := make([]Dashboard, 0, len(meta.Dashboards))
	seen := map[string]bool{}
	for _, m := range meta.Dashboards {
		if seen[m.UID] {
			return nil, fmt.Errorf("%s in %s: dashboard uid %q listed twice", dashboards.MetaFile, where, m.UID)
		}
		seen[m.UID] = true
		d, err := readDashboard(where, m, read)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func readDashboard(where string, m dashboards.MetaEntry, read func(string) ([]byte, error)) (Dashboard, error) {
	if m.File == "" || path.IsAbs(m.File) || strings.Contains(m.File, "..") || strings.Contains(m.File, "\\") {
		return Dashboard{}, fmt.Errorf("%s: dashboard %s: file %q is not a path inside %s", dashboards.MetaFile, m.UID, m.File, where)
	}
	p := m.File + " in " + where
	b, err := read(m.File)
	if err != nil {
		return Dashboard{}, fmt.Errorf("dashboard %s: %w", m.UID, err)
	}
	var j map[string]any
	if err := json.Unmarshal(b, &j); err != nil {
		return Dashboard{}, fmt.Errorf("%s: %w", p, err)
	}
	delete(j, "id")
	delete(j, "version")
	if uid, _ := j["uid"].(string); uid != m.UID {
		return Dashboard{}, fmt.Errorf("%s: uid %q, but %s lists it as %q", p, uid, dashboards.MetaFile, m.UID)
	}
	if !uidPattern.MatchString(m.UID) {
		return Dashboard{}, fmt.Errorf("%s: uid %q: Grafana takes at most 40 letters, digits, - and _", p, m.UID)
	}
	title, _ := j["title"].(string)
	if title == "" {
		return Dashboard{}, fmt.Errorf("%s: dashboard %s has no title", p, m.UID)
	}
	// encoding/json writes map keys sorted: the same content hashes the same
	// whatever the file's formatting.
	canon, err := json.Marshal(j)
	if err != nil {
		return Dashboard{}, fmt.Errorf("%s: %w", p, err)
	}
	sum := sha256.Sum256(canon)
	return Dashboard{UID: m.UID, Title: title, Hash: hex.EncodeToString(sum[:8]), Meta: m, json: j}, nil
}

// uidPattern is what Grafana accepts as a uid (and what needs no escaping
// in a URL path).
var uidPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// FolderUID is the stable uid of the folder titled title: its lower-case
// letters and digits joined by "-" ("Pulse" is "pulse", as the file
// provisioning's folderUid), or a hash when that leaves nothing.
func FolderUID(title string) string {
	s := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(title), "-"), "-")
	if len(s) > 40 {
		s = strings.TrimRight(s[:40], "-")
	}
	if s == "" {
		sum := sha256.Sum256([]byte(title))
		s = "pulse-" + hex.EncodeToString(sum[:6])
	}
	return s
}
