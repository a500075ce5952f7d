package forgetextension // import "github.com/pulse-otel/pulse/extension/forgetextension"

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"
)

// startSync reads the sync topic up to its end, so that Start returns
// knowing every user forgotten so far on any gateway, then publishes the
// local records the topic lacks (requests made before sync was configured)
// and keeps tailing the topic. start_timeout bounds all but the tailing.
func (e *forgetExtension) startSync(ctx context.Context) error {
	kc := e.cfg.Sync.Kafka.Get()
	if kc == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, kc.StartTimeout)
	defer cancel()
	ks, err := newKafkaSync(ctx, kc, e.set.Logger)
	if err != nil {
		return err
	}
	// The records read at start are applied at once: nothing reads the
	// set before Start returns, and one copy of it per fetched batch
	// would cost O(n²) for a large topic.
	inTopic := map[subject]struct{}{}
	var read []record
	err = ks.ensureTopic(ctx)
	if err == nil {
		err = ks.catchUp(ctx, func(krs []*kgo.Record) {
			for _, r := range e.decodeTopic(krs) {
				inTopic[r.subject] = struct{}{}
				read = append(read, r)
			}
		})
	}
	if err == nil {
		e.applyTopic(read)
		err = e.publishMissing(ctx, ks, inTopic)
	}
	if err != nil {
		ks.close()
		return err
	}
	ks.tail(func(krs []*kgo.Record) { e.applyTopic(e.decodeTopic(krs)) })
	e.mu.Lock()
	e.kafka = ks
	forgotten := len(e.bySubject)
	e.mu.Unlock()
	e.set.Logger.Info("Read the forget sync topic; tailing it", zap.String("topic", kc.Topic),
		zap.Int("records", len(inTopic)), zap.Int("forgotten_users", forgotten))
	return nil
}

// publishMissing writes the records of the local storage that the topic
// does not hold, so that every gateway learns them.
func (e *forgetExtension) publishMissing(ctx context.Context, ks *kafkaSync, inTopic map[subject]struct{}) error {
	e.mu.RLock()
	var missing []record
	for _, i := range e.bySubject {
		if _, ok := inTopic[e.records[i].subject]; !ok {
			missing = append(missing, e.records[i])
		}
	}
	e.mu.RUnlock()
	if len(missing) == 0 {
		return nil
	}
	if err := ks.publish(ctx, e.check, missing...); err != nil {
		return fmt.Errorf("sync.kafka: publishing the %d requests of the local storage that the topic lacks: %w", len(missing), err)
	}
	e.set.Logger.Info("Published the local storage's forget requests that the sync topic lacked",
		zap.String("topic", ks.cfg.Topic), zap.Int("requests", len(missing)))
	return nil
}

// decodeTopic returns the valid records of a batch, logging the others.
func (e *forgetExtension) decodeTopic(krs []*kgo.Record) []record {
	valid := make([]record, 0, len(krs))
	for _, kr := range krs {
		r, err := decodeTopicRecord(kr.Key, kr.Value, e.check)
		if err != nil {
			e.refuse(kr, &r, err)
			continue
		}
		valid = append(valid, r)
	}
	return valid
}

// applyTopic makes records read from the topic effective: the new
// subjects join the forgotten set (one copy of it per call) and the local
// storage, if any. A subject already known keeps its first record.
func (e *forgetExtension) applyTopic(valid []record) {
	if len(valid) == 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	added := valid[:0]
	for _, r := range valid {
		if _, ok := e.bySubject[r.subject]; ok {
			continue // this gateway's own request, or one read before
		}
		e.records = append(e.records, r)
		e.bySubject[r.subject] = len(e.records) - 1
		if _, taken := e.byID[r.id]; !taken {
			e.byID[r.id] = len(e.records) - 1
		}
		added = append(added, r)
	}
	if len(added) == 0 {
		return
	}
	next := make(map[subject]struct{}, len(e.bySubject))
	if cur := e.forgotten.Load(); cur != nil {
		maps.Copy(next, cur.m)
	}
	for _, r := range added {
		next[r.subject] = struct{}{}
	}
	e.forgotten.Store(&forgottenSet{m: next})

	if e.store != nil {
		if err := e.store.appendAll(context.Background(), added); err != nil {
			e.set.Logger.Error("Could not store forget requests read from the sync topic locally; they are in force, and the topic restores them at the next start",
				zap.Int("requests", len(added)), zap.Error(err))
		}
	}
	for _, r := range added {
		if !e.set.Logger.Core().Enabled(zap.DebugLevel) {
			break // thousands at start: not even the fields
		}
		e.set.Logger.Debug("Forget request read from the sync topic",
			zap.String("request_id", r.id.String()), zap.String("subject", r.subject.prefix()))
	}
	e.set.Logger.Info("Forget requests read from the sync topic are in force", zap.Int("requests", len(added)), zap.Int("forgotten_users", len(e.bySubject)))
}

// refuse logs a record that is not applied, by its position: its content
// could be anything.
// A record made with another key names its subject, which identifies no
// one without that key.
func (e *forgetExtension) refuse(kr *kgo.Record, r *record, err error) {
	fields := []zap.Field{zap.String("topic", kr.Topic), zap.Int32("partition", kr.Partition), zap.Int64("offset", kr.Offset), zap.Error(err)}
	switch {
	case errors.Is(err, errTombstone):
		e.set.Logger.Warn("Ignored a record of the forget sync topic", fields...)
	case errors.Is(err, errForeignKey):
		fields = append(fields, zap.String("subject", r.subject.prefix()))
		e.set.Logger.Error("Refused a record of the forget sync topic: the user it names stays unknown to this gateway", fields...)
	default:
		e.set.Logger.Error("Refused a malformed record of the forget sync topic", fields...)
	}
}

// errPublish wraps a failure to write a request to the sync topic.
type errPublish struct{ err error }

func (e errPublish) Error() string { return "sync.kafka: " + e.err.Error() }
func (e errPublish) Unwrap() error { return e.err }
