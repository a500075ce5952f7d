package promstoreexporter // import "github.com/pulse-otel/pulse/exporter/promstoreexporter"

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/grafana/regexp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/route"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/scrape"
	"github.com/prometheus/prometheus/tsdb"
	apiv1 "github.com/prometheus/prometheus/web/api/v1"

	"github.com/pulse-otel/pulse/internal/httpserver"
	"github.com/pulse-otel/pulse/internal/livepage"
)

// apiPaths are the Prometheus HTTP API paths served, under /api/v1. The
// rest of Prometheus' API (targets, admin, remote write...) needs a scrape
// manager or write access that promstore does not expose.
var apiPaths = []string{
	"/query",
	"/query_range",
	"/query_exemplars",
	"/format_query",
	"/parse_query",
	"/series",
	"/labels",
	"/label/{name}/values",
	"/metadata",
	"/status/buildinfo",
	"/rules",
	"/alerts",
	"/alertmanagers",
}

// handler serves the Prometheus HTTP API with Prometheus' own handlers
// (web/api/v1) over db and engine, plus /-/healthy and /-/ready. Rules and
// alerts come from al's rules manager, Alertmanagers from its notifier.
//
// live, when not nil, is the live dashboard page, served under /dashboards/
// by the same server: the same auth extension, TLS, CORS and connection cap.
func (p *promstore) handler(db *tsdb.DB, engine promql.QueryEngine, dir string, al *alerting, live http.Handler) http.Handler {
	targets := newMetadataTarget(p.meta)
	api := apiv1.NewAPI(
		engine,
		db,  // queryable
		nil, // no remote-write or OTLP ingestion over HTTP
		db,  // exemplars
		nil, // scrape pools: not served
		func(context.Context) apiv1.TargetRetriever { return targets },
		func(context.Context) apiv1.AlertmanagerRetriever { return al.notifier },
		func() config.Config { return config.DefaultConfig },
		map[string]string{},
		apiv1.GlobalURLOptions{},
		p.whenReady,
		adminStats{db},
		dir,
		false, // admin endpoints
		false, // search endpoints
		0,
		p.logger,
		func(context.Context) apiv1.RulesRetriever { return al.rules },
		0, 0, 0, // remote read limits; remote read is not served
		false, // agent mode
		// CORS is confighttp's job; this regexp matches no origin so
		// Prometheus' own CORS headers never allow one.
		regexp.MustCompile(`^$`),
		func() (apiv1.RuntimeInfo, error) { return apiv1.RuntimeInfo{}, nil },
		buildInfo(),
		nil, nil, // notifications
		prometheus.NewRegistry(), prometheus.NewRegistry(),
		nil,   // default stats renderer
		false, // remote write receiver
		nil,
		false, false, false, // OTLP receiver
		p.cfg.Query.LookbackDelta,
		false, // type and unit labels
		false, // append metadata
		nil,   // default error codes
		nil,   // feature registry
		apiv1.OpenAPIOptions{},
		boundedParser{parser.NewParser(parser.Options{}), p.cfg.Query.MaxLength, p.cfg.Query.MaxDepth},
		false, // query cost estimation
		p.cfg.Query.Timeout,
	)
	router := route.New()
	api.Register(router.WithPrefix("/api/v1"))

	mux := http.NewServeMux()
	apiHandler := newPooledGzip(router)
	rangeHandler := apiHandler
	if p.cfg.Query.RangeCacheTTL > 0 {
		rangeHandler = newPooledGzip(newRangeCache(router, p.cfg.Query.RangeCacheTTL, p.cfg.Query.Timeout, p.cfg.Query.RangeCacheSize))
	}
	for _, path := range apiPaths {
		if path == "/query_range" {
			mux.Handle("/api/v1"+path, rangeHandler)
			continue
		}
		mux.Handle("/api/v1"+path, apiHandler)
	}
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = io.WriteString(w, "Prometheus Server is Healthy.\n")
		}
	})
	mux.HandleFunc("/-/ready", p.whenReady(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = io.WriteString(w, "Prometheus Server is Ready.\n")
		}
	}))
	if live != nil {
		mux.Handle(livepage.Prefix, live)
		mux.Handle(livepage.Prefix+"/", live)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, http.StatusNotFound, "unknown path "+strconv.Quote(r.URL.Path))
	})
	return mux
}

// whenReady answers 503, as Prometheus does, while the TSDB is not open.
func (p *promstore) whenReady(f http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !p.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "Service Unavailable")
			return
		}
		f(w, r)
	}
}

// writeAPIError answers in the Prometheus API error shape, for errors that
// do not come from Prometheus' handlers (unknown path, auth, body limits).
func writeAPIError(w http.ResponseWriter, status int, msg string) {
	httpserver.WritePrometheusError(w, status, msg)
}

// buildInfo reports the Prometheus release whose code serves the API, so
// that clients such as Grafana that switch features on the version see
// what they are talking to. Library version v0.X0Y.Z is Prometheus 3.Y.Z
// (v0.316.0 is 3.16.0).
func buildInfo() *apiv1.PrometheusVersion {
	v := &apiv1.PrometheusVersion{
		Version:   "3.0.0",
		Revision:  "pulse-promstore",
		Branch:    "pulse",
		BuildUser: "pulse",
		GoVersion: runtime.Version(),
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	for _, dep := range bi.Deps {
		if dep.Path != "github.com/prometheus/prometheus" {
			continue
		}
		if prom, ok := prometheusRelease(dep.Version); ok {
			v.Version = prom
		}
	}
	return v
}

// prometheusRelease maps a github.com/prometheus/prometheus module version
// (v0.316.0) to the Prometheus release it was cut from (3.16.0).
func prometheusRelease(modVersion string) (string, bool) {
	parts := strings.SplitN(strings.TrimPrefix(modVersion, "v0."), ".", 2)
	if len(parts) != 2 || len(parts[0]) < 3 {
		return "", false
	}
	majorMinor, err := strconv.Atoi(parts[0])
	if err != nil {
		return "", false
	}
	patch := parts[1]
	if i := strings.IndexAny(patch, "-+"); i >= 0 {
		patch = patch[:i]
	}
	return fmt.Sprintf("%d.%d.%s", majorMinor/100, majorMinor%100, patch), true
}

// metadataTarget answers the API's metadata and target questions.
// promstore has no scrape targets: /api/v1/metadata reads the metadata of
// one target that stands for everything promstore received, and the
// target endpoints are not served.
type metadataTarget struct {
	active map[string][]*scrape.Target
}

func newMetadataTarget(store scrape.MetricMetadataStore) metadataTarget {
	t := scrape.NewTarget(labels.EmptyLabels(), &config.ScrapeConfig{JobName: "promstore"}, nil, nil)
	t.SetMetadataStore(store)
	return metadataTarget{active: map[string][]*scrape.Target{"promstore": {t}}}
}

func (m metadataTarget) TargetsActive() map[string][]*scrape.Target { return m.active }
func (metadataTarget) TargetsDropped() map[string][]*scrape.Target  { return nil }
func (metadataTarget) TargetsDroppedCounts() map[string]int         { return nil }
func (metadataTarget) ScrapePoolConfig(string) (*config.ScrapeConfig, error) {
	return nil, fmt.Errorf("promstore has no scrape pools")
}

// adminStats adapts *tsdb.DB to what the API wants for its status pages.
type adminStats struct{ *tsdb.DB }

func (a adminStats) BlockMetas() ([]tsdb.BlockMeta, error) { return a.DB.BlockMetas(), nil }

func (a adminStats) Stats(statsByLabelName string, limit int) (*tsdb.Stats, error) {
	return a.DB.Head().Stats(statsByLabelName, limit), nil
}

// WALReplayStatus is empty: tsdb.Open returns after the WAL is replayed.
func (adminStats) WALReplayStatus() (tsdb.WALReplayStatus, error) {
	return tsdb.WALReplayStatus{}, nil
}
