package httpserver

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/extension/extensionauth"
	"go.uber.org/zap"
)

const (
	// FDReserve is the part of RLIMIT_NOFILE no listener's default cap
	// touches: the TSDB's blocks, WAL and chunk files, the file storage,
	// the collector's own sockets.
	FDReserve = 512
	// MaxDefaultConnections caps the derived default per listener: each
	// connection costs about 10 KiB of buffers and a goroutine even idle,
	// up to MaxHeaderBytes more while its header is read.
	MaxDefaultConnections = 4096
	// minConnections is the floor of the derived default, for tiny limits.
	minConnections = 16
	// MaxHeaderBytes bounds a request's header (net/http's default is 1 MiB).
	MaxHeaderBytes = 64 << 10
	// DefaultReadHeaderTimeout applies when the configuration sets none.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultIdleTimeout closes keep-alive connections idle that long,
	// when the configuration sets no idle timeout.
	DefaultIdleTimeout = 60 * time.Second
)

// DefaultMaxConnections is the cap of one listener when max_connections is
// 0: a quarter of the soft RLIMIT_NOFILE less FDReserve, so the three
// listeners together leave at least FDReserve plus a quarter of the limit
// to the store; at most MaxDefaultConnections.
func DefaultMaxConnections() int {
	return deriveMax(openFileLimit())
}

func deriveMax(soft uint64) int {
	if soft == 0 || soft > 1<<31 {
		return MaxDefaultConnections
	}
	n := (int64(soft) - FDReserve) / 4
	return int(min(max(n, minConnections), MaxDefaultConnections))
}

// Cap returns the connection cap for a configured max_connections: the
// derived default for 0, else the configured value bounded by the derived
// default (a cap past the descriptor budget would let clients starve the
// store of descriptors).
func Cap(configured int) int {
	d := DefaultMaxConnections()
	if configured <= 0 || configured > d {
		return d
	}
	return configured
}

// Options are what a listener adds to its confighttp.ServerConfig.
type Options struct {
	// Name names the listener in logs ("analytics receiver").
	Name string
	// MaxConnections is the configured max_connections (0: derived).
	MaxConnections int
	// WriteError writes the component's JSON error answer.
	WriteError func(w http.ResponseWriter, status int, msg string)
	// Public, when set and the configuration has an auth extension,
	// names the requests served without credentials (a page's static
	// shell); every other request is authenticated as confighttp does.
	Public func(*http.Request) bool
}

// Server is an http.Server and the capped listener it serves.
type Server struct {
	*http.Server
	ln    net.Listener
	limit *limitListener
}

// New listens on cfg's endpoint, capped at opts.MaxConnections
// connections, and builds the server with confighttp (TLS, auth, CORS,
// decompression, body size) plus this package's error answers and
// defaults.
func New(ctx context.Context, cfg *confighttp.ServerConfig, host component.Host, set component.TelemetrySettings, handler http.Handler, opts Options) (*Server, error) {
	raw, err := cfg.NetAddr.Listen(ctx)
	if err != nil {
		return nil, fmt.Errorf("listen on %q: %w", cfg.NetAddr.Endpoint, err)
	}
	n := Cap(opts.MaxConnections)
	if opts.MaxConnections > n {
		set.Logger.Warn("max_connections is above the open-file budget; using the budget",
			zap.String("listener", opts.Name), zap.Int("configured", opts.MaxConnections), zap.Int("max_connections", n))
	}
	limit := newLimitListener(raw, n)
	limit.writeError = opts.WriteError
	var ln net.Listener = limit
	if cfg.TLS.HasValue() {
		// TLS above the cap, so net/http still sees *tls.Conn.
		tlsCfg, err := cfg.TLS.Get().LoadTLSConfig(ctx)
		if err != nil {
			_ = raw.Close()
			return nil, err
		}
		tlsCfg.NextProtos = []string{"h2", "http/1.1"}
		ln = tls.NewListener(limit, tlsCfg)
	}
	if cfg.CompressionAlgorithms == nil {
		cfg.CompressionAlgorithms = defaultAlgorithms
	}
	errorHandler := ErrorHandler(opts.WriteError, cfg.CompressionAlgorithms)
	toServer := cfg
	if cfg.Auth.HasValue() && opts.Public != nil {
		// Authenticate here rather than in confighttp, which has no way
		// to exempt a path.
		auth := cfg.Auth.Get()
		authServer, err := auth.Config.GetServerAuthenticator(ctx, host.GetExtensions())
		if err != nil {
			_ = raw.Close()
			return nil, err
		}
		handler = authenticate(handler, authServer, auth.RequestParameters, opts.Public, errorHandler)
		c := *cfg
		c.Auth = configoptional.None[confighttp.AuthConfig]()
		toServer = &c
	}
	srv, err := toServer.ToServer(ctx, host.GetExtensions(), set, handler, confighttp.WithErrorHandler(errorHandler))
	if err != nil {
		_ = raw.Close()
		return nil, err
	}
	if srv.MaxHeaderBytes == 0 {
		srv.MaxHeaderBytes = MaxHeaderBytes
	}
	if srv.ReadHeaderTimeout <= 0 {
		srv.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if srv.IdleTimeout <= 0 {
		srv.IdleTimeout = DefaultIdleTimeout
	}
	srv.ConnState = limit.track
	set.Logger.Info("Listening",
		zap.String("listener", opts.Name),
		zap.String("endpoint", raw.Addr().String()),
		zap.Int("max_connections", n),
		zap.Uint64("open_file_limit", openFileLimit()))
	return &Server{Server: srv, ln: ln, limit: limit}, nil
}

// authenticate is confighttp's auth interceptor (request parameters taken
// from the query as well as the header, 401 through the component's error
// answer) for every request but the public ones.
func authenticate(next http.Handler, auth extensionauth.Server, params []string, public func(*http.Request) bool,
	errorHandler func(http.ResponseWriter, *http.Request, string, int),
) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if public(r) {
			next.ServeHTTP(w, r)
			return
		}
		sources := r.Header
		if len(params) > 0 {
			sources = r.Header.Clone()
			query := r.URL.Query()
			for _, p := range params {
				if v, ok := query[p]; ok {
					sources[p] = v
				}
			}
		}
		ctx, err := auth.Authenticate(r.Context(), sources)
		if err != nil {
			errorHandler(w, r, err.Error(), http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Addr is the listener's address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// MaxConnections is the cap in force.
func (s *Server) MaxConnections() int { return s.limit.max }

// Serve serves until Shutdown or Close; it returns http.ErrServerClosed then.
func (s *Server) Serve() error { return s.Server.Serve(s.ln) }

// ErrorHandler answers the errors confighttp writes itself with fixed
// texts, in the component's JSON error format: the default handler writes
// plain text, and its messages quote the Content-Encoding header.
func ErrorHandler(write func(w http.ResponseWriter, status int, msg string), algorithms []string) func(http.ResponseWriter, *http.Request, string, int) {
	if write == nil {
		write = func(w http.ResponseWriter, status int, msg string) { http.Error(w, msg, status) }
	}
	accepted := acceptedEncodings(algorithms)
	return func(w http.ResponseWriter, _ *http.Request, msg string, status int) {
		switch {
		case strings.HasPrefix(msg, "unsupported Content-Encoding"):
			write(w, http.StatusUnsupportedMediaType, "unsupported Content-Encoding; accepted: "+accepted)
		case status == http.StatusUnauthorized:
			write(w, status, "unauthorized: missing or invalid credentials")
		case status == http.StatusBadRequest:
			write(w, status, "the body is not valid data of its Content-Encoding")
		default:
			write(w, status, strings.ToLower(http.StatusText(status)))
		}
	}
}

// defaultAlgorithms is confighttp's default compression_algorithms.
var defaultAlgorithms = []string{"", "gzip", "zstd", "zlib", "snappy", "deflate", "lz4", "x-snappy-framed"}

// acceptedEncodings lists the Content-Encodings confighttp decodes.
func acceptedEncodings(algorithms []string) string {
	if len(algorithms) == 0 {
		algorithms = defaultAlgorithms
	}
	var names []string
	for _, a := range algorithms {
		if a == "" {
			a = "identity (none)"
		}
		names = append(names, a)
	}
	return strings.Join(names, ", ")
}
