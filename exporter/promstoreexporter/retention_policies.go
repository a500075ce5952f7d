package promstoreexporter // import "github.com/pulse-otel/pulse/exporter/promstoreexporter"

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"

	"github.com/pulse-otel/pulse/internal/audit"
	"github.com/pulse-otel/pulse/internal/retention"
)

// enforcer executes a retention plan (internal/retention) against the
// TSDB on a schedule: for every active rule and each of its raw, 5m and 1h
// series it deletes the samples older than the tier keeps, then cleans the
// tombstones. Each execution is journaled in the store's directory, each
// rule done is an audit record.
type enforcer struct {
	db       *tsdb.DB
	plan     retention.Plan
	dir      string
	interval time.Duration
	now      func() time.Time
	// audit receives a record per rule executed; nil without audit.
	audit  audit.Appender
	actor  string // the component id
	logger *zap.Logger
	tel    *retentionTelemetry
	// afterRule, when set, runs after each rule is recorded; an error ends
	// the execution there, unfinished, as a crash would (tests).
	afterRule func(policy string, rule int) error

	mu         sync.Mutex
	lastFinish time.Time // last execution finished; zero before the first
	next       time.Time

	cancel context.CancelFunc
	done   chan struct{}
}

// deleted is what one tier of one rule deleted.
type deleted struct {
	series, samples int64
}

// execute runs one execution: the unfinished one of the journal if there
// is one (same cutoffs, the rules not done), a new one at now otherwise.
func (e *enforcer) execute(ctx context.Context) error {
	j, err := readJournal(e.dir)
	if err != nil {
		return err
	}
	resumed := j != nil && !j.finished() && j.Version == e.plan.Version
	if resumed {
		j.Resumed++
	} else {
		now := e.now()
		j = &journal{Execution: now.UTC().Format(time.RFC3339Nano), Version: e.plan.Version, Now: now.UnixMilli(), Done: []string{}}
	}
	if err := j.write(e.dir); err != nil {
		return err
	}
	e.logger.Info("Retention execution", zap.String("execution", j.Execution), zap.String("version", j.Version), zap.Bool("resumed", resumed))
	// Samples in the out-of-order head first go to blocks: the TSDB
	// compacts that head without its tombstones (OOOCompactionHead has
	// none), so a deletion there would come back at its next compaction.
	if err := e.db.CompactOOOHead(ctx); err != nil {
		e.tel.executed(ctx, false)
		return fmt.Errorf("compact the out-of-order head: %w", err)
	}
	for _, p := range e.plan.Policies {
		if !p.IsActive {
			continue
		}
		for _, r := range p.Rules {
			key := p.PolicyID + "/" + strconv.Itoa(r.Index)
			if slices.Contains(j.Done, key) {
				continue
			}
			if err := e.executeRule(ctx, j, p, r, resumed); err != nil {
				e.tel.executed(ctx, false)
				return fmt.Errorf("policy %q rule %d: %w", p.PolicyID, r.Index, err)
			}
			j.Done = append(j.Done, key)
			if err := j.write(e.dir); err != nil {
				e.tel.executed(ctx, false)
				return err
			}
			if e.afterRule != nil {
				if err := e.afterRule(p.PolicyID, r.Index); err != nil {
					return err
				}
			}
		}
	}
	if err := e.db.CleanTombstones(); err != nil {
		e.tel.executed(ctx, false)
		return fmt.Errorf("clean tombstones: %w", err)
	}
	fin := e.now()
	j.Finished = fin.UnixMilli()
	if err := j.write(e.dir); err != nil {
		e.tel.executed(ctx, false)
		return err
	}
	e.mu.Lock()
	e.lastFinish = fin
	e.next = fin.Add(e.interval)
	e.mu.Unlock()
	e.tel.executed(ctx, true)
	return nil
}

// executeRule deletes the tiers of r and records what went.
func (e *enforcer) executeRule(ctx context.Context, j *journal, p retention.PlanPolicy, r retention.PlanRule, resumed bool) error {
	details := map[string]string{
		"version": j.Version, "execution": j.Execution, "rule": strconv.Itoa(r.Index),
		"data_type": r.DataType, "resumed": strconv.FormatBool(resumed),
	}
	for _, t := range r.Tiers {
		ms, err := t.Matchers()
		if err != nil {
			return fmt.Errorf("tier %s: %w", t.Resolution, err)
		}
		cutoff := j.started().Add(-t.Keep())
		// Delete's interval is closed: keep the sample at the cutoff.
		maxt := cutoff.UnixMilli() - 1
		d, err := e.count(ctx, maxt, ms)
		if err != nil {
			return fmt.Errorf("tier %s: count: %w", t.Resolution, err)
		}
		if err := e.db.Delete(ctx, math.MinInt64, maxt, ms...); err != nil {
			return fmt.Errorf("tier %s: delete: %w", t.Resolution, err)
		}
		e.tel.deleted(ctx, p.PolicyID, r.DataType, t.Resolution, d)
		details["cutoff_"+t.Resolution] = cutoff.UTC().Format(time.RFC3339)
		details["series_"+t.Resolution] = strconv.FormatInt(d.series, 10)
		details["samples_"+t.Resolution] = strconv.FormatInt(d.samples, 10)
	}
	if e.audit == nil {
		return nil
	}
	// Recorded before the rule is marked done: a rule done has its record.
	if _, err := e.audit.Append(ctx, audit.Entry{
		Action: audit.ActionRetention, Actor: e.actor, Source: e.actor, Object: p.PolicyID, Details: details,
	}); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// count returns the series and samples at or before maxt that ms select:
// whole chunks by their sample count, only chunks that straddle maxt
// decoded, so the cost is the chunks' index entries plus two partial
// chunks per series.
func (e *enforcer) count(ctx context.Context, maxt int64, ms []*labels.Matcher) (deleted, error) {
	var d deleted
	q, err := e.db.ChunkQuerier(math.MinInt64, maxt)
	if err != nil {
		return d, err
	}
	defer func() { _ = q.Close() }()
	set := q.Select(ctx, false, nil, ms...)
	var it chunkenc.Iterator
	for set.Next() {
		n := int64(0)
		chunks := set.At().Iterator(nil)
		for chunks.Next() {
			m := chunks.At()
			if m.MinTime > maxt {
				continue
			}
			if m.MaxTime <= maxt {
				n += int64(m.Chunk.NumSamples())
				continue
			}
			it = m.Chunk.Iterator(it)
			for it.Next() != chunkenc.ValNone && it.AtT() <= maxt {
				n++
			}
		}
		if err := chunks.Err(); err != nil {
			return d, err
		}
		if n > 0 {
			d.series++
			d.samples += n
		}
	}
	return d, set.Err()
}

// start schedules executions: at once when the journal holds one that
// did not finish or none ran yet, else interval after the last finished.
func (e *enforcer) start() error {
	j, err := readJournal(e.dir)
	if err != nil {
		return err
	}
	now := e.now()
	e.mu.Lock()
	e.next = now
	if j != nil && j.finished() {
		e.lastFinish = time.UnixMilli(j.Finished)
		e.next = e.lastFinish.Add(e.interval)
	}
	e.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan struct{})
	go e.loop(ctx)
	return nil
}

func (e *enforcer) loop(ctx context.Context) {
	defer close(e.done)
	for {
		e.mu.Lock()
		wait := e.next.Sub(e.now())
		e.mu.Unlock()
		t := time.NewTimer(max(0, wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if err := e.execute(ctx); err != nil {
			if errors.Is(err, context.Canceled) {
				return
			}
			e.logger.Error("Retention execution failed; retried at the next interval", zap.Error(err))
			e.mu.Lock()
			e.next = e.now().Add(e.interval)
			e.mu.Unlock()
		}
	}
}

// stop ends the schedule and waits for a running execution (which stops
// at its next deletion; the journal has it resumed at the next start).
func (e *enforcer) stop() {
	if e == nil || e.cancel == nil {
		return
	}
	e.cancel()
	<-e.done
	e.tel.stop()
}

// times returns the last finished and the next execution.
func (e *enforcer) times() (last, next time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lastFinish, e.next
}

// startRetention starts enforcing retention.policies, when set: it reads
// the plan, records the version in force (audit config.load) and
// schedules the executions. nil without policies.
func (p *promstore) startRetention(ctx context.Context, host component.Host, db *tsdb.DB, dir string) (*enforcer, error) {
	rc := p.cfg.Retention
	if rc.Policies == "" {
		return nil, nil
	}
	plan, err := rc.checkPlan()
	if err != nil {
		return nil, fmt.Errorf("promstore: %w", err)
	}
	now := p.retentionNow
	if now == nil {
		now = time.Now
	}
	e := &enforcer{
		db: db, plan: plan, dir: dir, interval: rc.Interval, now: now,
		actor: p.set.ID.String(), logger: p.set.Logger, afterRule: p.retentionAfterRule,
	}
	if p.cfg.Audit != nil {
		if e.audit, err = audit.FromHost(host, *p.cfg.Audit); err != nil {
			return nil, fmt.Errorf("promstore: audit: %w", err)
		}
		active := []string{}
		for _, pp := range plan.Policies {
			if pp.IsActive {
				active = append(active, pp.PolicyID)
			}
		}
		if _, err := e.audit.Append(ctx, audit.Entry{
			Action: audit.ActionConfigLoad, Actor: e.actor, Source: e.actor, Object: "retention.policies",
			Details: map[string]string{"version": plan.Version, "active_policies": strings.Join(active, ","), "interval": rc.Interval.String()},
		}); err != nil {
			return nil, fmt.Errorf("promstore: audit: %w", err)
		}
	}
	e.tel = p.telemetry.retention
	if err = e.tel.watch(p.telemetry.meter, func() (float64, float64) {
		last, next := e.times()
		return unixSeconds(last), unixSeconds(next)
	}); err != nil {
		return nil, fmt.Errorf("promstore: telemetry: %w", err)
	}
	if err := e.start(); err != nil {
		e.tel.stop()
		return nil, fmt.Errorf("promstore: retention: %w", err)
	}
	p.set.Logger.Info("Retention policies enforced", zap.String("version", plan.Version), zap.Duration("interval", rc.Interval))
	return e, nil
}

func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixMilli()) / 1000
}
