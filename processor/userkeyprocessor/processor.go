package userkeyprocessor // import "github.com/pulse-otel/pulse/processor/userkeyprocessor"

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
)

// userKeyProcessor splits each request by key group and passes each part
// on with the group number in its client metadata.
type userKeyProcessor struct {
	component.StartFunc
	component.ShutdownFunc

	keys int
	// metaKey is the metadata key, lower-cased as client.Metadata stores it.
	metaKey string
	// values[g] is group g's metadata value, built once.
	values [][]string
	next   consumer.Logs
	pool   sync.Pool
}

func newUserKeyProcessor(cfg *Config, next consumer.Logs) *userKeyProcessor {
	p := &userKeyProcessor{
		keys:    cfg.Keys,
		metaKey: strings.ToLower(cfg.MetadataKey),
		values:  make([][]string, cfg.Keys),
		next:    next,
	}
	for g, v := range groupValues(cfg.Keys, cfg.Partitions) {
		p.values[g] = []string{v}
	}
	p.pool.New = func() any { return newScratch(cfg.Keys) }
	return p
}

// Capabilities says the processor mutates data: it moves records out of
// the incoming request into the per-group requests.
func (p *userKeyProcessor) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: true}
}

// ConsumeLogs passes ld on split by key group, groups in ascending order.
func (p *userKeyProcessor) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	s := p.pool.Get().(*scratch)
	defer func() {
		// Reset before pooling, so a pooled scratch holds no pdata.
		s.reset()
		p.pool.Put(s)
	}()

	single := p.assign(ld, s)
	base := client.FromContext(ctx)
	if single {
		// One group (or no records): pass the request on as it is.
		g := uint16(0)
		if len(s.groups) > 0 {
			g = s.groups[0]
		}
		return p.next.ConsumeLogs(p.withGroup(ctx, base, g), ld)
	}
	parts := p.split(ld, s)
	return p.send(ctx, base, s, parts, len(s.groups))
}

// assign computes every record's group into s.groups and the distinct
// groups into s.used; it reports whether there is at most one.
func (p *userKeyProcessor) assign(ld plog.Logs, s *scratch) bool {
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				g := recordGroup(lrs.At(k), p.keys)
				s.groups = append(s.groups, g)
				if s.slot[g] == 0 {
					s.used = append(s.used, g)
					s.slot[g] = int32(len(s.used))
				}
			}
		}
	}
	if len(s.used) <= 1 {
		return true
	}
	// Slots in ascending group order, so the groups are passed on in order.
	slices.Sort(s.used)
	for i, g := range s.used {
		s.slot[g] = int32(i + 1)
	}
	return false
}

// split moves ld's records into one plog.Logs per used group (in s.used
// order), copying each resource and scope once into every group that has
// records under it. Records are moved, not copied; ld is left empty.
func (p *userKeyProcessor) split(ld plog.Logs, s *scratch) []plog.Logs {
	n := len(s.used)
	parts := make([]plog.Logs, n)
	for i := range parts {
		parts[i] = plog.NewLogs()
	}
	s.grow(n)
	rls := ld.ResourceLogs()
	rec := 0
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			lrs := sl.LogRecords()
			m := lrs.Len()
			if m == 0 {
				continue
			}
			// The common SDK case: a scope whose records share one group
			// moves as a whole, without touching its records.
			first := s.groups[rec]
			uniform := true
			for _, g := range s.groups[rec+1 : rec+m] {
				if g != first {
					uniform = false
					break
				}
			}
			if uniform {
				lrs.MoveAndAppendTo(s.scopeFor(parts, rl, sl, i, j, first).LogRecords())
				rec += m
				continue
			}
			// Each group's copy of the scope is sized for its records once.
			for _, g := range s.groups[rec : rec+m] {
				s.count[s.slot[g]-1]++
			}
			for k := 0; k < m; k++ {
				dst := s.scopeFor(parts, rl, sl, i, j, s.groups[rec]).LogRecords()
				lrs.At(k).MoveTo(dst.AppendEmpty())
				rec++
			}
			for _, g := range s.groups[rec-m : rec] {
				s.count[s.slot[g]-1] = 0
			}
			lrs.RemoveIf(func(plog.LogRecord) bool { return true })
		}
	}
	return parts
}

// send passes each part on in order. A retryable failure stops the loop:
// the client's retry re-sends the whole request. A permanent failure
// refuses only that group's records; the other groups are still passed on.
func (p *userKeyProcessor) send(ctx context.Context, base client.Info, s *scratch, parts []plog.Logs, total int) error {
	passed := 0
	var refused []uint16
	refusedRecords := 0
	var permanent []error
	for i, part := range parts {
		g := s.used[i]
		n := part.LogRecordCount()
		err := p.next.ConsumeLogs(p.withGroup(ctx, base, g), part)
		switch {
		case err == nil:
			passed += n
		case consumererror.IsPermanent(err):
			refused = append(refused, g)
			refusedRecords += n
			permanent = append(permanent, err)
		default:
			if len(refused) > 0 {
				// The permanent errors are quoted, not wrapped: the client
				// must see a retryable error, and retry the request.
				return fmt.Errorf("userkey: key group %d (%d records) failed after %d of %d records were passed on (groups %v refused permanently: %v): %w",
					g, n, passed, total, refused, errors.Join(permanent...), err)
			}
			return fmt.Errorf("userkey: key group %d (%d records) failed after %d of %d records were passed on: %w", g, n, passed, total, err)
		}
	}
	if len(refused) > 0 {
		return consumererror.NewPermanent(fmt.Errorf("userkey: key groups %v refused %d of %d records, %d were passed on: %w",
			refused, refusedRecords, total, passed, errors.Join(permanent...)))
	}
	return nil
}

// withGroup returns ctx with base's client info, its metadata plus the
// group number under the processor's key (replacing any value a client
// sent under that key, so a client cannot pick its partition).
func (p *userKeyProcessor) withGroup(ctx context.Context, base client.Info, g uint16) context.Context {
	md := make(map[string][]string, 4)
	for k := range base.Metadata.Keys() {
		if k != p.metaKey {
			md[k] = base.Metadata.Get(k)
		}
	}
	md[p.metaKey] = p.values[g]
	info := base
	info.Metadata = client.NewMetadata(md)
	return client.NewContext(ctx, info)
}

// scratch is one request's working memory, pooled: nothing in it refers to
// pdata after the request (parts belong to the next consumer).
type scratch struct {
	// groups is each record's group, in iteration order.
	groups []uint16
	// used is the distinct groups; slot[g] is g's 1-based index in used.
	used []uint16
	slot []int32
	// Per slot: the destination resource and scope of the resource (resAt)
	// and scope (scopeAt) being split, so each is copied once per group.
	res     []plog.ResourceLogs
	resAt   []int
	scope   []plog.ScopeLogs
	scopeAt [][2]int
	// count is, per slot, the records of the scope being split (0 while
	// a scope moves whole).
	count []int32
}

func newScratch(keys int) *scratch {
	return &scratch{slot: make([]int32, keys)}
}

func (s *scratch) reset() {
	for _, g := range s.used {
		s.slot[g] = 0
	}
	s.groups = s.groups[:0]
	s.used = s.used[:0]
	clear(s.res)
	clear(s.scope)
}

func (s *scratch) grow(n int) {
	if cap(s.res) < n {
		s.res = make([]plog.ResourceLogs, n)
		s.resAt = make([]int, n)
		s.scope = make([]plog.ScopeLogs, n)
		s.scopeAt = make([][2]int, n)
		s.count = make([]int32, n)
	}
	s.res, s.resAt, s.scope, s.scopeAt, s.count = s.res[:n], s.resAt[:n], s.scope[:n], s.scopeAt[:n], s.count[:n]
	for i := range n {
		s.resAt[i] = -1
		s.scopeAt[i] = [2]int{-1, -1}
	}
}

// scopeFor returns group g's copy of scope j of resource i, creating the
// resource and scope copies on first use.
func (s *scratch) scopeFor(parts []plog.Logs, rl plog.ResourceLogs, sl plog.ScopeLogs, i, j int, g uint16) plog.ScopeLogs {
	k := s.slot[g] - 1
	if s.scopeAt[k] == [2]int{i, j} {
		return s.scope[k]
	}
	if s.resAt[k] != i {
		dst := parts[k].ResourceLogs().AppendEmpty()
		rl.Resource().CopyTo(dst.Resource())
		dst.SetSchemaUrl(rl.SchemaUrl())
		s.res[k], s.resAt[k] = dst, i
	}
	dst := s.res[k].ScopeLogs().AppendEmpty()
	dst.LogRecords().EnsureCapacity(int(s.count[k]))
	sl.Scope().CopyTo(dst.Scope())
	dst.SetSchemaUrl(sl.SchemaUrl())
	s.scope[k], s.scopeAt[k] = dst, [2]int{i, j}
	return dst
}
