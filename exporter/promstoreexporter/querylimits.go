package promstoreexporter // import "github.com/pulse-otel/pulse/exporter/promstoreexporter"

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
)

// Query limits applied before the PromQL engine runs anything. The engine
// counts max_samples only as it evaluates, and some shapes allocate far
// more than they count first: a subquery over a step-invariant expression
// (count_over_time(vector(1)[10y:1s])) allocates one point per step for
// its whole range, 5 GB for 315 M steps, before the first sample is
// counted. Parsing costs the square of the nesting depth (40 KB of
// parentheses: 1.9 CPU-s). Both are refused from the query text and its
// AST, at a cost linear in the query's length.

// checkQueryText refuses a query longer than maxLength bytes or nested
// deeper than maxDepth, with one pass over its bytes and no allocation
// beyond a stack of maxDepth counters. The depth counted is an upper
// bound of the AST's: one per open bracket, plus one per operator in the
// chain at each open level (a+b+c nests as (a+b)+c). Brackets and
// operators inside string literals, comments and label matchers ({...})
// do not count. Errors name the limit and the position, never the text.
func checkQueryText(q string, maxLength, maxDepth int) error {
	if len(q) > maxLength {
		return fmt.Errorf("query: %d bytes, more than query.max_length (%d)", len(q), maxLength)
	}
	var (
		ops    = make([]int, 1, 16) // operators at each open level
		depth  int                  // open levels + operators at all of them
		braces int                  // open label matcher braces
	)
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			i = skipString(q, i)
			continue
		case c == '#':
			for i < len(q) && q[i] != '\n' {
				i++
			}
			continue
		case c == '(' || c == '[' || c == '{':
			if c == '{' {
				braces++
			}
			ops = append(ops, 0)
			depth++
		case c == ')' || c == ']' || c == '}':
			if c == '}' && braces > 0 {
				braces--
			}
			if len(ops) > 1 {
				depth -= 1 + ops[len(ops)-1]
				ops = ops[:len(ops)-1]
			}
		case braces == 0 && isOperatorByte(c):
			ops[len(ops)-1]++
			depth++
		case braces == 0 && isIdentStart(c):
			j := i
			for j < len(q) && isIdentByte(q[j]) {
				j++
			}
			if isOperatorWord(q[i:j]) {
				ops[len(ops)-1]++
				depth++
			}
			i = j - 1
		}
		if depth > maxDepth {
			return fmt.Errorf("query: nested deeper than query.max_depth (%d) at byte %d", maxDepth, i)
		}
	}
	return nil
}

// skipString returns the index of the quote closing the string literal
// that opens at q[i], or len(q) when it is not closed.
func skipString(q string, i int) int {
	quote := q[i]
	for i++; i < len(q); i++ {
		switch {
		case q[i] == '\\' && quote != '`':
			i++
		case q[i] == quote:
			return i
		}
	}
	return len(q)
}

func isOperatorByte(c byte) bool {
	switch c {
	case '+', '-', '*', '/', '%', '^', '<', '>', '=':
		return true
	}
	return false
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

func isIdentByte(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9')
}

// isOperatorWord reports PromQL's keyword binary operators, which are
// case-insensitive.
func isOperatorWord(w string) bool {
	if len(w) < 2 || len(w) > 6 {
		return false
	}
	var b [6]byte
	for i := range len(w) {
		b[i] = w[i] | 0x20
	}
	switch string(b[:len(w)]) {
	case "and", "or", "unless", "atan2":
		return true
	}
	return false
}

// boundedParser is the API's PromQL parser (format_query, parse_query, the
// match[] selectors of series, labels and values) with the text limits.
type boundedParser struct {
	parser.Parser
	maxLength, maxDepth int
}

func (p boundedParser) ParseExpr(input string) (parser.Expr, error) {
	if err := checkQueryText(input, p.maxLength, p.maxDepth); err != nil {
		return nil, err
	}
	return p.Parser.ParseExpr(input)
}

func (p boundedParser) ParseMetric(input string) (labels.Labels, error) {
	if err := checkQueryText(input, p.maxLength, p.maxDepth); err != nil {
		return labels.EmptyLabels(), err
	}
	return p.Parser.ParseMetric(input)
}

func (p boundedParser) ParseMetricSelector(input string) ([]*labels.Matcher, error) {
	if err := checkQueryText(input, p.maxLength, p.maxDepth); err != nil {
		return nil, err
	}
	return p.Parser.ParseMetricSelector(input)
}

func (p boundedParser) ParseMetricSelectors(inputs []string) ([][]*labels.Matcher, error) {
	for _, in := range inputs {
		if err := checkQueryText(in, p.maxLength, p.maxDepth); err != nil {
			return nil, err
		}
	}
	return p.Parser.ParseMetricSelectors(inputs)
}

func (p boundedParser) ParseSeriesDesc(input string) (labels.Labels, []parser.SequenceValue, error) {
	if err := checkQueryText(input, p.maxLength, p.maxDepth); err != nil {
		return labels.EmptyLabels(), nil, err
	}
	return p.Parser.ParseSeriesDesc(input)
}

// boundedEngine is the engine as the HTTP API sees it: the text limits
// before parsing, and the subquery step limit before evaluating. Rules
// use the engine directly: their text is the operator's, not a client's.
type boundedEngine struct {
	engine              *promql.Engine
	maxLength, maxDepth int
	maxSamples          int
	noStepInterval      func(rangeMillis int64) int64
}

var _ promql.QueryEngine = (*boundedEngine)(nil)

func (e *boundedEngine) NewInstantQuery(ctx context.Context, q storage.Queryable, opts promql.QueryOpts, qs string, ts time.Time) (promql.Query, error) {
	if err := checkQueryText(qs, e.maxLength, e.maxDepth); err != nil {
		return nil, err
	}
	qry, err := e.engine.NewInstantQuery(ctx, q, opts, qs, ts)
	if err != nil {
		return nil, err
	}
	return e.checkSteps(qry, 0, 0), nil
}

func (e *boundedEngine) NewRangeQuery(ctx context.Context, q storage.Queryable, opts promql.QueryOpts, qs string, start, end time.Time, interval time.Duration) (promql.Query, error) {
	if err := checkQueryText(qs, e.maxLength, e.maxDepth); err != nil {
		return nil, err
	}
	qry, err := e.engine.NewRangeQuery(ctx, q, opts, qs, start, end, interval)
	if err != nil {
		return nil, err
	}
	return e.checkSteps(qry, end.Sub(start), interval), nil
}

// checkSteps returns qry, or when one of its subqueries is too costly (see
// subqueryCheck), a query that fails with that reason when it is executed,
// so that the API answers 422 as for the engine's own sample limit.
// interval is the range query's step, 0 for an instant query.
func (e *boundedEngine) checkSteps(qry promql.Query, span, interval time.Duration) promql.Query {
	stmt, ok := qry.Statement().(*parser.EvalStmt)
	if !ok {
		return qry
	}
	steps := int64(1)
	if interval > 0 {
		steps = int64(span/interval) + 1
	}
	c := subqueryCheck{maxSamples: int64(e.maxSamples), noStep: e.noStepInterval}
	if err := c.walk(stmt.Expr, span.Milliseconds(), steps); err != nil {
		return refusedQuery{Query: qry, err: err}
	}
	return qry
}

// maxScanPerSample is how many points a range function over a subquery
// may scan for one series, per max_samples: with the default max_samples,
// 16.8 M points, 0.5 to 0.75 s of CPU at the 28 to 45 ns per point measured
// for quantile_over_time (idle, loaded). The engine checks its context
// (query.timeout, and the client leaving) once per series there, not per
// step, so this is how long such a query can go on after its deadline or
// after its client disconnected, holding a max_concurrency slot. Dashboard
// shapes fit: max_over_time(x[1d:1m]) over 7 days at step 5m scans 2.9 M
// points per series, [7d:1m] over 30 days at step 1h 7.3 M.
const maxScanPerSample = 16

// subqueryCheck refuses, from the AST and before evaluation:
//   - a subquery whose inner expression would be evaluated at more than
//     max_samples steps: each step holds at least one point in memory, and
//     a step-invariant inner expression allocates all of them at once. A
//     subquery evaluates its inner expression over the span of the
//     expression around it plus its range, so nested subqueries widen it.
//   - a range function over a subquery that would scan more than
//     max_samples × maxScanPerSample points: each of the outer steps scans
//     the subquery's range / step points.
type subqueryCheck struct {
	maxSamples int64
	noStep     func(rangeMillis int64) int64
}

// walk checks n, evaluated over spanMillis (0 for an instant) at steps
// steps.
func (c subqueryCheck) walk(n parser.Node, spanMillis, steps int64) error {
	if call, ok := n.(*parser.Call); ok {
		for _, arg := range call.Args {
			sq, ok := arg.(*parser.SubqueryExpr)
			if !ok {
				continue
			}
			if (spanMillis+sq.Range.Milliseconds())/c.step(sq)+1 > c.maxSamples {
				continue // refused for its steps below, the memory limit
			}
			window := sq.Range.Milliseconds()/c.step(sq) + 1
			if points := steps * window; points/maxScanPerSample > c.maxSamples {
				return fmt.Errorf("query processing would take too long: %s over a subquery of range %s at step %s scans %d points at each of %d steps, more than query.max_samples × %d (%d) in all",
					call.Func.Name, model.Duration(sq.Range), model.Duration(time.Duration(c.step(sq))*time.Millisecond), window, steps, maxScanPerSample, c.maxSamples*maxScanPerSample)
			}
		}
	}
	if sq, ok := n.(*parser.SubqueryExpr); ok {
		step := c.step(sq)
		spanMillis += sq.Range.Milliseconds()
		steps = spanMillis/step + 1
		if steps > c.maxSamples {
			return fmt.Errorf("query processing would load too many samples into memory: a subquery of range %s at step %s is evaluated at %d steps, more than query.max_samples (%d)",
				model.Duration(sq.Range), model.Duration(time.Duration(step)*time.Millisecond), steps, c.maxSamples)
		}
	}
	for _, child := range parser.Children(n) {
		if err := c.walk(child, spanMillis, steps); err != nil {
			return err
		}
	}
	return nil
}

// step is sq's step in milliseconds, the engine's default when it has none.
func (c subqueryCheck) step(sq *parser.SubqueryExpr) int64 {
	step := sq.Step.Milliseconds()
	if step <= 0 && c.noStep != nil {
		step = c.noStep(sq.Range.Milliseconds())
	}
	return max(step, 1)
}

// refusedQuery is a query refused before evaluation: Exec returns err
// without evaluating anything.
type refusedQuery struct {
	promql.Query
	err error
}

func (q refusedQuery) Exec(context.Context) *promql.Result { return &promql.Result{Err: q.err} }
