package forgetextension // import "github.com/pulse-otel/pulse/extension/forgetextension"

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensioncapabilities"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/pulse-otel/pulse/internal/audit"
	"github.com/pulse-otel/pulse/internal/httpserver"
)

type forgetExtension struct {
	cfg    *Config
	set    extension.Settings
	key    []byte // never logged
	hasher *hasher

	// forgotten is what Forgotten reads: nil while no request exists.
	forgotten atomic.Pointer[forgottenSet]

	// mu guards the audit records and the store. Writers hold it while
	// they persist, so requests are recorded one at a time, in order.
	mu        sync.RWMutex
	records   []record
	bySubject map[subject]int // index in records
	byID      map[requestID]int
	store     *store     // nil without storage
	check     string     // keyCheck(key): tags the topic's records
	kafka     *kafkaSync // nil without sync, and while not started

	audit audit.Appender // nil without the audit setting

	server    *httpserver.Server
	serveDone chan struct{}
}

func newExtension(cfg *Config, set extension.Settings) (*forgetExtension, error) {
	key, err := cfg.loadKey()
	if err != nil {
		return nil, err
	}
	return &forgetExtension{
		cfg:       cfg,
		set:       set,
		key:       key,
		hasher:    newHasher(key),
		check:     keyCheck(key),
		bySubject: map[subject]int{},
		byID:      map[requestID]int{},
	}, nil
}

// Dependencies makes the collector start the storage, audit, auth and
// middleware extensions the server uses before this one.
func (e *forgetExtension) Dependencies() []component.ID {
	var ids []component.ID
	if e.cfg.Audit != nil {
		ids = append(ids, *e.cfg.Audit)
	}
	if e.cfg.Storage != nil {
		ids = append(ids, *e.cfg.Storage)
	}
	if auth := e.cfg.Auth.Get(); auth != nil {
		ids = append(ids, auth.Config.AuthenticatorID)
	}
	for _, m := range e.cfg.Middlewares {
		ids = append(ids, m.ID)
	}
	return ids
}

// Start loads the stored requests, reads the sync topic, then serves the
// admin API.
func (e *forgetExtension) Start(ctx context.Context, host component.Host) error {
	if e.cfg.Audit != nil {
		a, err := audit.FromHost(host, *e.cfg.Audit)
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		e.audit = a
	}
	if err := e.openStorage(ctx, host); err != nil {
		return err
	}
	if err := e.startSync(ctx); err != nil {
		return errors.Join(err, e.closeStorage(ctx))
	}
	if err := e.startServer(ctx, host); err != nil {
		e.stopSync()
		return errors.Join(err, e.closeStorage(ctx))
	}
	return nil
}

func (e *forgetExtension) openStorage(ctx context.Context, host component.Host) error {
	if e.cfg.Storage == nil && e.cfg.Sync.Kafka.HasValue() {
		e.set.Logger.Info("No local storage: the forget sync topic is the only record of the requests; it is read whole at every start")
		return nil
	}
	if e.cfg.Storage == nil {
		e.set.Logger.Warn("No storage configured: forget requests are kept in memory only and will not survive a restart; set storage to a storage extension such as file_storage")
		return nil
	}
	id := *e.cfg.Storage
	ext, ok := host.GetExtensions()[id]
	if !ok {
		return fmt.Errorf("storage: extension %q not found; add it to service.extensions", id)
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return fmt.Errorf("storage: extension %q is not a storage extension", id)
	}
	client, err := se.GetClient(ctx, component.KindExtension, e.set.ID, "")
	if err != nil {
		return fmt.Errorf("storage: getting a client from %q: %w", id, err)
	}
	st := &store{client: client}
	recs, err := st.load(ctx, e.key)
	if err != nil {
		_ = client.Close(ctx)
		return fmt.Errorf("storage: loading the forget requests from %q: %w", id, err)
	}
	e.mu.Lock()
	e.store = st
	e.install(recs)
	e.mu.Unlock()
	e.set.Logger.Info("Loaded forget requests", zap.Stringer("storage", id), zap.Int("forgotten_users", len(e.records)))
	return nil
}

func (e *forgetExtension) startServer(ctx context.Context, host component.Host) error {
	// internal/httpserver: connection cap, JSON error answers, timeouts.
	srv, err := httpserver.New(ctx, &e.cfg.ServerConfig, host, e.set.TelemetrySettings, e.handler(), httpserver.Options{
		Name: "forget API", MaxConnections: e.cfg.MaxConnections, WriteError: writeError,
	})
	if err != nil {
		return fmt.Errorf("forget extension: %w", err)
	}
	e.server = srv
	e.set.Logger.Info("Forget API listening", zap.String("endpoint", srv.Addr().String()))
	e.serveDone = make(chan struct{})
	go func() {
		defer close(e.serveDone)
		if err := srv.Serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(err))
		}
	}()
	return nil
}

// Shutdown stops the server, waiting for the requests in flight, stops
// reading the sync topic, then closes the storage client. The forgotten
// set stays readable.
func (e *forgetExtension) Shutdown(ctx context.Context) error {
	var err error
	if e.server != nil {
		err = e.server.Shutdown(ctx)
		<-e.serveDone // Serve returns as soon as Shutdown closed the listener
		e.server = nil
	}
	e.stopSync()
	return errors.Join(err, e.closeStorage(ctx))
}

// stopSync closes the Kafka clients outside the lock: the tailing
// goroutine may be waiting for it.
func (e *forgetExtension) stopSync() {
	e.mu.Lock()
	ks := e.kafka
	e.kafka = nil
	e.mu.Unlock()
	if ks != nil {
		ks.close()
	}
}

func (e *forgetExtension) closeStorage(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.store == nil {
		return nil
	}
	err := e.store.client.Close(ctx)
	e.store = nil
	return err
}

// install replaces the records and the forgotten set; mu is held.
func (e *forgetExtension) install(recs []record) {
	e.records = recs
	e.bySubject = make(map[subject]int, len(recs))
	e.byID = make(map[requestID]int, len(recs))
	set := make(map[subject]struct{}, len(recs))
	for i := range recs {
		if _, dup := e.bySubject[recs[i].subject]; dup {
			continue
		}
		e.bySubject[recs[i].subject] = i
		e.byID[recs[i].id] = i
		set[recs[i].subject] = struct{}{}
	}
	if len(set) == 0 {
		e.forgotten.Store(nil)
		return
	}
	e.forgotten.Store(&forgottenSet{m: set})
}

// errStorage wraps a failure to persist a request.
type errStorage struct{ err error }

func (e errStorage) Error() string { return "storage: " + e.err.Error() }
func (e errStorage) Unwrap() error { return e.err }

// forget records a request for the user, publishing it to the sync topic
// and persisting it first when they are configured, and makes it
// effective. It returns the record and whether it is new; for a user
// already forgotten, the original record.
//
// With sync, Kafka's acknowledgement is what makes the request: when the
// topic refuses it nothing is applied (errPublish, a 503), because a
// request in force on this gateway only would let the user's events
// through the others and be lost at this one's next start without local
// storage. Once Kafka acknowledged it, a local storage failure only logs:
// the request is in force everywhere and the topic restores it here.
func (e *forgetExtension) forget(ctx context.Context, userID string, now time.Time) (record, bool, error) {
	return e.forgetAs(ctx, requester{}, userID, now)
}

// forgetAs is forget for a known requester. With the audit setting the
// request is recorded in the audit log before anything else happens to it;
// when that fails it is not applied (errAudit, a 503): an unaudited
// deletion is worse than a retried request. When publishing or storing
// fails after the record was written, a second record says it was not
// applied.
func (e *forgetExtension) forgetAs(ctx context.Context, who requester, userID string, now time.Time) (record, bool, error) {
	sub := e.hasher.subject(userID)
	e.mu.Lock()
	defer e.mu.Unlock()
	if i, ok := e.bySubject[sub]; ok {
		if err := e.record(ctx, who, e.records[i], outcomeRepeated); err != nil {
			return record{}, false, err
		}
		return e.records[i], false, nil
	}
	r := record{subject: sub, receivedAt: now.UTC().Truncate(time.Second)}
	for {
		_, _ = rand.Read(r.id[:]) // never fails (crypto/rand)
		if _, taken := e.byID[r.id]; !taken {
			break
		}
	}
	if err := e.record(ctx, who, r, outcomeNew); err != nil {
		return record{}, false, err
	}
	applied, created, err := e.apply(ctx, r)
	if err != nil {
		if aerr := e.record(context.WithoutCancel(ctx), who, r, outcomeNotApplied); aerr != nil {
			e.set.Logger.Error("Could not record in the audit log that a forget request was not applied", zap.String("subject", sub.prefix()), zap.Error(aerr))
		}
	}
	return applied, created, err
}

// apply publishes, stores and installs a new request; mu is held.
func (e *forgetExtension) apply(ctx context.Context, r record) (record, bool, error) {
	sub := r.subject
	switch {
	case e.cfg.Sync.Kafka.HasValue() && e.kafka == nil:
		return record{}, false, errPublish{errors.New("the Kafka clients are closed")}
	case e.kafka != nil:
		pctx, cancel := context.WithTimeout(ctx, e.kafka.cfg.PublishTimeout)
		err := e.kafka.publish(pctx, e.check, r)
		cancel()
		if err != nil {
			return record{}, false, errPublish{err}
		}
	}
	switch {
	case e.cfg.Storage != nil && e.store == nil && e.kafka == nil:
		// Not started, or shut down: never acknowledge what is not stored.
		return record{}, false, errStorage{errors.New("the storage client is closed")}
	case e.store != nil:
		if err := e.store.append(ctx, &r); err != nil {
			if e.kafka == nil {
				return record{}, false, errStorage{err}
			}
			e.set.Logger.Error("Could not store a forget request locally; it is in force, and the sync topic restores it at the next start",
				zap.String("subject", sub.prefix()), zap.Error(err))
		}
	}
	e.records = append(e.records, r)
	e.bySubject[sub] = len(e.records) - 1
	e.byID[r.id] = len(e.records) - 1

	next := map[subject]struct{}{sub: {}}
	if cur := e.forgotten.Load(); cur != nil {
		next = make(map[subject]struct{}, len(cur.m)+1)
		maps.Copy(next, cur.m)
		next[sub] = struct{}{}
	}
	e.forgotten.Store(&forgottenSet{m: next})
	return r, true, nil
}

func (e *forgetExtension) lookup(id requestID) (record, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	i, ok := e.byID[id]
	if !ok {
		return record{}, false
	}
	return e.records[i], true
}

func (e *forgetExtension) count() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.bySubject)
}

var (
	_ Forgetter                       = (*forgetExtension)(nil)
	_ extension.Extension             = (*forgetExtension)(nil)
	_ extensioncapabilities.Dependent = (*forgetExtension)(nil)
)
