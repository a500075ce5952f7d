package livepage

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"

	"github.com/pulse-otel/pulse/internal/httpserver"
)

// Prefix is where the page is mounted on the query API's listener.
const Prefix = "/dashboards"

// Defaults of Options' zero fields.
const (
	DefaultTick               = 250 * time.Millisecond
	DefaultMaxViewers         = 2000
	DefaultMaxStreams         = 64
	DefaultQueryTimeout       = 5 * time.Second
	DefaultMaxSeriesPerTarget = 100
	// DefaultMaxConcurrentQueries is half of promstore's default
	// query.max_concurrency (4).
	DefaultMaxConcurrentQueries = 2
	// retryAfter is the Retry-After of a 503, in seconds.
	retryAfter = "5"
)

// Options configure the page server.
type Options struct {
	// Engine and Queryable evaluate the panel queries.
	Engine    promql.QueryEngine
	Queryable storage.Queryable
	// Dir is the directory `pulsectl dashboards compile --out DIR` wrote.
	Dir string
	// Tick is how often a stream looks for a change to evaluate.
	Tick time.Duration
	// Changed returns a counter the store bumps after every committed
	// append; a stream evaluates only when it moved (or a step boundary
	// passed, or 30 s went by). nil: evaluate every tick.
	Changed func() uint64
	// MaxViewers is the most live connections at once, over every
	// dashboard; more are answered 503.
	MaxViewers int
	// MaxStreams is the most distinct (dashboard, range) streams at once;
	// a viewer who would open one more is answered 503.
	MaxStreams int
	// QueryTimeout bounds one panel query, waiting for a slot included.
	QueryTimeout time.Duration
	// MaxConcurrentQueries is the most panel queries of all streams
	// evaluated at once, so that live evaluations leave the engine's other
	// slots to API queries.
	MaxConcurrentQueries int
	// MaxSeriesPerTarget is the most series one target sends; the target
	// says "truncated": true when it returned more.
	MaxSeriesPerTarget int
	// AuthEnabled says the listener has an auth extension: dashboards that
	// are not public are then shown only to the users their definition
	// names (see Identity).
	AuthEnabled bool
	Logger      *slog.Logger

	// now is the clock, and ping the silence before a ping comment, for
	// tests.
	now  func() time.Time
	ping time.Duration
}

func (o *Options) withDefaults() {
	if o.Tick <= 0 {
		o.Tick = DefaultTick
	}
	if o.MaxViewers <= 0 {
		o.MaxViewers = DefaultMaxViewers
	}
	if o.MaxStreams <= 0 {
		o.MaxStreams = DefaultMaxStreams
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = DefaultQueryTimeout
	}
	if o.MaxConcurrentQueries <= 0 {
		o.MaxConcurrentQueries = DefaultMaxConcurrentQueries
	}
	if o.MaxSeriesPerTarget <= 0 {
		o.MaxSeriesPerTarget = DefaultMaxSeriesPerTarget
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.ping <= 0 {
		o.ping = pingInterval
	}
}

// Handler serves the page, its JSON API and the live streams under Prefix.
type Handler struct {
	opts   Options
	store  *store
	hub    *hub
	static map[string]asset
}

// asset is one embedded file with its ETag.
type asset struct {
	body []byte
	etag string
}

// New returns the page server; Close it before shutting the HTTP server
// down, so that open streams end.
func New(opts Options) (*Handler, error) {
	if opts.Engine == nil || opts.Queryable == nil {
		return nil, errors.New("livepage: Engine and Queryable are required")
	}
	if opts.Dir == "" {
		return nil, errors.New("livepage: Dir is required")
	}
	opts.withDefaults()
	h := &Handler{opts: opts, store: newStore(opts.Dir, opts.now), static: map[string]asset{}}
	h.hub = newHub(&h.opts, h.store, opts.now)
	err := fs.WalkDir(Static(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Static(), p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		h.static[p] = asset{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// Close ends every live stream and refuses new ones; it returns once the
// streams' evaluations stopped.
func (h *Handler) Close() { h.hub.close() }

// Stats are the page's counts, for the collector's telemetry.
type Stats struct {
	// Viewers and Streams are open now.
	Viewers, Streams int64
	// Evaluations and Dropped (viewers disconnected for being too slow)
	// count since start.
	Evaluations, Dropped int64
}

// Stats returns the counts now.
func (h *Handler) Stats() Stats {
	h.hub.mu.Lock()
	streams := int64(len(h.hub.streams))
	h.hub.mu.Unlock()
	return Stats{
		Viewers: h.hub.viewers.Load(), Streams: streams,
		Evaluations: h.hub.evaluations.Load(), Dropped: h.hub.dropped.Load(),
	}
}

// ServeHTTP routes the page's paths (see the package documentation).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	switch {
	case p == Prefix:
		http.Redirect(w, r, Prefix+"/", http.StatusMovedPermanently)
	case p == Prefix+"/", strings.HasPrefix(p, Prefix+"/d/") && validUID(p[len(Prefix+"/d/"):]):
		h.serveAsset(w, r, "index.html", "no-cache")
	case strings.HasPrefix(p, Prefix+"/static/"):
		name := p[len(Prefix+"/static/"):]
		if name == "index.html" || !fs.ValidPath(name) {
			writeError(w, http.StatusNotFound, "unknown path")
			return
		}
		h.serveAsset(w, r, name, "no-cache")
	case p == Prefix+"/api/list":
		h.serveList(w, r)
	case strings.HasPrefix(p, Prefix+"/api/dashboard/"):
		h.serveDashboard(w, r, p[len(Prefix+"/api/dashboard/"):])
	case strings.HasPrefix(p, Prefix+"/api/live/"):
		h.serveLive(w, r, p[len(Prefix+"/api/live/"):])
	default:
		writeError(w, http.StatusNotFound, "unknown path")
	}
}

// IsShell reports whether r asks for the page's shell: index.html (at
// Prefix/ and Prefix/d/{uid}), the embedded assets and the redirect to
// Prefix/. They hold no data (the dashboards, their names included, come
// from the API paths), so promstore serves them without credentials when
// the listener has an auth extension: a browser cannot attach a bearer
// token to a page it navigates to, and the shell is what asks the user for
// one and then sends it on every API call and stream.
func IsShell(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := r.URL.Path
	switch {
	case p == Prefix, p == Prefix+"/":
		return true
	case strings.HasPrefix(p, Prefix+"/d/"):
		return validUID(p[len(Prefix+"/d/"):])
	case strings.HasPrefix(p, Prefix+"/static/"):
		name := p[len(Prefix+"/static/"):]
		return name != "index.html" && fs.ValidPath(name)
	}
	return false
}

// validUID accepts Grafana's uid alphabet, up to 40 characters.
func validUID(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func (h *Handler) serveAsset(w http.ResponseWriter, r *http.Request, name, cache string) {
	a, ok := h.static[name]
	if !ok {
		writeError(w, http.StatusNotFound, "unknown path")
		return
	}
	w.Header().Set("ETag", a.etag)
	w.Header().Set("Cache-Control", cache)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// ServeContent answers If-None-Match with 304, sets the type from the
	// name and handles HEAD and ranges.
	http.ServeContent(w, r, path.Base(name), time.Time{}, bytes.NewReader(a.body))
}

type listEntry struct {
	UID         string   `json:"uid"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Tags        []string `json:"tags"`
	Theme       string   `json:"theme"`
	URL         string   `json:"url"`
}

func (h *Handler) serveList(w http.ResponseWriter, r *http.Request) {
	cat := h.store.get()
	who := Identity(r.Context())
	out := struct {
		Dashboards []listEntry `json:"dashboards"`
		Problem    string      `json:"problem,omitempty"`
	}{Dashboards: []listEntry{}, Problem: cat.problem}
	for _, d := range cat.sorted {
		if !visible(d, h.opts.AuthEnabled, who) {
			continue
		}
		tags := d.Tags
		if tags == nil {
			tags = []string{}
		}
		out.Dashboards = append(out.Dashboards, listEntry{
			UID: d.UID, Title: d.Title, Description: d.Description, Tags: tags, Theme: d.Theme, URL: Prefix + "/d/" + d.UID,
		})
	}
	writeJSON(w, out)
}

// lookup finds uid in the catalog and checks the caller may see it; it
// answers the error itself when not.
func (h *Handler) lookup(w http.ResponseWriter, r *http.Request, uid string) *Dashboard {
	d := h.store.get().byUID[uid]
	if !validUID(uid) || d == nil {
		writeError(w, http.StatusNotFound, "unknown dashboard")
		return nil
	}
	if !visible(d, h.opts.AuthEnabled, Identity(r.Context())) {
		writeError(w, http.StatusForbidden, "this dashboard is not shared with you")
		return nil
	}
	return d
}

func (h *Handler) serveDashboard(w http.ResponseWriter, r *http.Request, uid string) {
	d := h.lookup(w, r, uid)
	if d == nil {
		return
	}
	writeJSON(w, struct {
		Dashboard json.RawMessage `json:"dashboard"`
		Theme     string          `json:"theme"`
	}{d.JSON, d.Theme})
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "cannot encode the answer")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

// writeError answers in the Prometheus API's error shape; msg is a fixed
// phrase, at most naming a parameter.
func writeError(w http.ResponseWriter, status int, msg string) {
	httpserver.WritePrometheusError(w, status, msg)
}
