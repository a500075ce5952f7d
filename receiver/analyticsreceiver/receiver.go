package analyticsreceiver // import "github.com/pulse-otel/pulse/receiver/analyticsreceiver"

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/pulse-otel/pulse/internal/httpserver"
	"github.com/pulse-otel/pulse/internal/pipelineerr"
	"github.com/pulse-otel/pulse/internal/receipt"
	"github.com/pulse-otel/pulse/receiver/analyticsreceiver/internal/decoder"
	"github.com/pulse-otel/pulse/receiver/analyticsreceiver/internal/metadata"
)

const (
	defaultRetryAfter            = time.Second
	defaultMaxConcurrentRequests = 1024
	defaultBodyReadTimeout       = 10 * time.Second
	defaultReadHeaderTimeout     = 10 * time.Second
)

// Paths of the receiver's endpoints, by kind.
var paths = map[string]decoder.Kind{
	"/v1/events":           decoder.Events,
	"/v1/recommendations":  decoder.Recommendations,
	"/v1/model-metrics":    decoder.ModelMetrics,
	"/v1/business-metrics": decoder.BusinessMetrics,
	"/v1/system-metrics":   decoder.SystemMetrics,
}

type analyticsReceiver struct {
	cfg         *Config
	set         receiver.Settings
	nextLogs    consumer.Logs
	nextMetrics consumer.Metrics
	obsrep      *receiverhelper.ObsReport
	dec         *decoder.Decoder
	bodies      sync.Pool
	retryAfter  string

	rejected  metric.Int64Counter
	accepted  metric.Int64Counter
	throttled metric.Int64Counter
	labels    labelState // snapshot label bounds: telemetry, saved state (labels.go)
	// slots bounds concurrent requests (max_concurrent_requests); nil: no limit.
	slots chan struct{}

	server    *httpserver.Server
	serveDone chan struct{}
	startOnce sync.Once
	stopOnce  sync.Once
	startErr  error
	release   func()
}

func newReceiver(cfg *Config, set receiver.Settings, release func()) (*analyticsReceiver, error) {
	obsrep, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID:             set.ID,
		Transport:              "http",
		ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	r := &analyticsReceiver{
		cfg:        cfg,
		set:        set,
		obsrep:     obsrep,
		dec:        decoder.New(cfg.decoderOptions()),
		bodies:     sync.Pool{New: func() any { return new(bytes.Buffer) }},
		retryAfter: strconv.Itoa(int(math.Ceil(cfg.RetryAfter.Seconds()))),
		release:    release,
	}
	meter := set.MeterProvider.Meter(metadata.ScopeName)
	r.rejected, err = meter.Int64Counter("otelcol_receiver_analytics_rejected_items",
		metric.WithDescription("Events and snapshots the analytics receiver rejected as invalid, by endpoint, the code and schema field of their first error (the answer lists every error) and platform."),
		metric.WithUnit("{item}"))
	if err != nil {
		return nil, err
	}
	r.accepted, err = meter.Int64Counter("otelcol_receiver_analytics_accepted_items",
		metric.WithDescription("Events and snapshots the analytics receiver found valid, by endpoint and platform: accuracy per data source is accepted / (accepted + rejected)."),
		metric.WithUnit("{item}"))
	if err != nil {
		return nil, err
	}
	r.throttled, err = meter.Int64Counter("otelcol_receiver_analytics_throttled_requests",
		metric.WithDescription("Requests answered 429 because max_concurrent_requests were already being handled, by endpoint."),
		metric.WithUnit("{request}"))
	if err != nil {
		return nil, err
	}
	if err := r.initLabels(meter); err != nil {
		return nil, err
	}
	if cfg.MaxConcurrentRequests > 0 {
		r.slots = make(chan struct{}, cfg.MaxConcurrentRequests)
	}
	return r, nil
}

// Start listens on the configured endpoint. The logs and metrics pipelines
// share the receiver, so only the first call does anything.
func (r *analyticsReceiver) Start(ctx context.Context, host component.Host) error {
	r.startOnce.Do(func() { r.startErr = r.start(ctx, host) })
	return r.startErr
}

func (r *analyticsReceiver) start(ctx context.Context, host component.Host) error {
	// internal/httpserver: connection cap, JSON error answers, timeouts.
	srv, err := httpserver.New(ctx, &r.cfg.ServerConfig, host, r.set.TelemetrySettings, r.Handler(), httpserver.Options{
		Name: "analytics receiver", MaxConnections: r.cfg.MaxConnections, WriteError: writeError,
	})
	if err != nil {
		return fmt.Errorf("analytics receiver: %w", err)
	}
	if err := r.startLabels(ctx, host); err != nil {
		_ = srv.Close()
		return fmt.Errorf("analytics receiver: %w", err)
	}
	r.server = srv
	r.set.Logger.Info("Analytics receiver listening", zap.String("endpoint", srv.Addr().String()))
	r.serveDone = make(chan struct{})
	go func() {
		defer close(r.serveDone)
		if err := r.server.Serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(err))
		}
	}()
	return nil
}

// Shutdown stops accepting requests and waits for the ones in flight.
func (r *analyticsReceiver) Shutdown(ctx context.Context) error {
	var err error
	r.stopOnce.Do(func() {
		if r.release != nil {
			r.release()
		}
		if r.server == nil {
			err = r.stopLabels(ctx)
			return
		}
		err = r.server.Shutdown(ctx)
		<-r.serveDone
		err = errors.Join(err, r.stopLabels(ctx))
	})
	return err
}

// Handler routes a request to its endpoint by path (an unknown path is a
// 404); Start serves it, and tests call it without a listener.
func (r *analyticsReceiver) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		kind, ok := paths[req.URL.Path]
		if !ok {
			// A fixed text: the path may hold anything a client typed.
			writeError(w, http.StatusNotFound, "unknown path; endpoints are /v1/events, /v1/recommendations, /v1/model-metrics, /v1/business-metrics, /v1/system-metrics")
			return
		}
		r.serve(w, req, kind)
	})
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// serve answers one request to the endpoint of kind: method, Content-Type
// and pipeline checks, then read, decode and hand on the body.
func (r *analyticsReceiver) serve(w http.ResponseWriter, req *http.Request, kind decoder.Kind) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method not allowed; use POST")
		return
	}
	if !isJSON(req.Header.Get("Content-Type")) {
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	}
	if kind.IsLogs() && r.nextLogs == nil || !kind.IsLogs() && r.nextMetrics == nil {
		signal := "logs"
		if !kind.IsLogs() {
			signal = "metrics"
		}
		writeError(w, http.StatusNotFound, "/v1/"+kind.String()+" is disabled: no "+signal+" pipeline uses this receiver")
		return
	}

	buf := r.bodies.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		// A buffer grown by one large body is left to the GC.
		if buf.Cap() <= maxPooledBody {
			r.bodies.Put(buf)
		}
	}()
	if !r.readBody(w, req, buf) {
		return
	}
	// The slot is taken only now that the body is here: a slow client
	// holds a connection (bounded by max_connections and
	// body_read_timeout), never a slot.
	if r.slots != nil {
		select {
		case r.slots <- struct{}{}:
			defer func() { <-r.slots }()
		default:
			r.throttled.Add(req.Context(), 1, metric.WithAttributeSet(attribute.NewSet(attribute.String("endpoint", kind.String()))))
			w.Header().Set("Retry-After", r.retryAfter)
			writeError(w, http.StatusTooManyRequests, fmt.Sprintf("%d requests are being handled (max_concurrent_requests); retry after %ss", cap(r.slots), r.retryAfter))
			return
		}
	}

	res, err := r.dec.Decode(kind, buf.Bytes(), time.Now())
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, decoder.ErrTooManyEvents) || errors.Is(err, decoder.ErrTooManyValues) {
			status = http.StatusRequestEntityTooLarge
		}
		writeError(w, status, err.Error())
		return
	}
	r.noteLabels(req.Context(), kind, res)
	r.countItems(req.Context(), kind, res)
	if len(res.Rejected) > 0 {
		r.set.Logger.Debug("Rejected invalid events",
			zap.String("endpoint", kind.String()),
			zap.Int("rejected", len(res.Rejected)),
			zap.Int("accepted", res.Accepted),
			zap.String("first_field", res.Rejected[0].Errors[0].Field),
			zap.String("first_reason", res.Rejected[0].Errors[0].Reason))
	}
	if res.Accepted == 0 {
		writeJSON(w, http.StatusBadRequest, answer{Rejected: res.Rejected, Error: "no event in the request is valid"})
		return
	}

	rc := &receipt.Receipt{}
	if err := r.consume(receipt.NewContext(req.Context(), rc), kind, res); err != nil {
		if consumererror.IsPermanent(err) {
			writeError(w, http.StatusBadRequest, permanentText(err))
			return
		}
		w.Header().Set("Retry-After", r.retryAfter)
		writeError(w, http.StatusServiceUnavailable, "the pipeline is not accepting data now; retry after "+r.retryAfter+"s")
		return
	}
	drops := dropped(rc, res)
	writeJSON(w, http.StatusOK, answer{Accepted: res.Accepted - len(drops), Rejected: res.Rejected, Dropped: drops, Folded: res.Folded})
}

// maxPooledBody is the largest body buffer kept for reuse.
const maxPooledBody = 1 << 20

// readBody reads the body into buf within body_read_timeout and answers
// the error when it cannot.
func (r *analyticsReceiver) readBody(w http.ResponseWriter, req *http.Request, buf *bytes.Buffer) bool {
	ctl := http.NewResponseController(w)
	timed := r.cfg.BodyReadTimeout > 0 && ctl.SetReadDeadline(time.Now().Add(r.cfg.BodyReadTimeout)) == nil
	_, err := buf.ReadFrom(req.Body)
	if timed && err == nil {
		// Past an error the deadline stays: net/http reads what is left
		// of the body after the handler, which must not wait for a slow
		// client (it held the connection, and the collector's shutdown).
		_ = ctl.SetReadDeadline(time.Time{})
	}
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	var netErr net.Error
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than max_request_body_size (%d bytes)", tooBig.Limit))
	case errors.As(err, &netErr) && netErr.Timeout():
		w.Header().Set("Connection", "close")
		writeError(w, http.StatusRequestTimeout, "the body did not arrive within body_read_timeout ("+r.cfg.BodyReadTimeout.String()+")")
	default:
		// Fixed text: a decompressor's message may quote the data.
		writeError(w, http.StatusBadRequest, "the body could not be read: the connection failed or the body is not valid data of its Content-Encoding")
	}
	return false
}

// permanentText describes a permanent pipeline error: the stage and its
// reason when the stage marked its text safe for clients (pipelineerr),
// else a generic text, as the reason may quote the data.
func permanentText(err error) string {
	if stage, text, ok := pipelineerr.Describe(err); ok {
		return "the pipeline refused the data permanently at " + stage + ": " + text
	}
	return "the pipeline refused the data permanently"
}

// consume hands the request's data to the next consumer; an error means none
// of it was accepted.
func (r *analyticsReceiver) consume(ctx context.Context, kind decoder.Kind, res *decoder.Result) error {
	if kind.IsLogs() {
		ctx = r.obsrep.StartLogsOp(ctx)
		err := r.nextLogs.ConsumeLogs(ctx, res.Logs)
		r.obsrep.EndLogsOp(ctx, "json", res.Items, err)
		return err
	}
	ctx = r.obsrep.StartMetricsOp(ctx)
	err := r.nextMetrics.ConsumeMetrics(ctx, res.Metrics)
	r.obsrep.EndMetricsOp(ctx, "json", res.Items, err)
	return err
}

// answer is the JSON body of every response.
type answer struct {
	Accepted int                 `json:"accepted"`
	Rejected []decoder.Rejection `json:"rejected"`
	// Dropped: valid events a later stage's policy did not store.
	Dropped []Dropped `json:"dropped,omitempty"`
	// Folded counts accepted snapshots that had a label value replaced by
	// "_other" (snapshot_labels limits).
	Folded int    `json:"folded,omitempty"`
	Error  string `json:"error,omitempty"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, answer{Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, a answer) {
	if a.Rejected == nil {
		a.Rejected = []decoder.Rejection{}
	}
	body, _ := json.Marshal(a)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

var (
	_ receiver.Logs    = (*analyticsReceiver)(nil)
	_ receiver.Metrics = (*analyticsReceiver)(nil)
)
