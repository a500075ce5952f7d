package privacyprocessor

import (
	"context"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func (p *privacyProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	var bs batchStats
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		res := p.resource(rs.Resource(), &bs)
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			sss.At(j).Spans().RemoveIf(func(span ptrace.Span) bool {
				if res != keep {
					bs.dropped[res]++
					return true
				}
				var st stats
				p.walk(span.Attributes(), nil, &st, &bs)
				for k := 0; k < span.Events().Len(); k++ {
					p.walk(span.Events().At(k).Attributes(), nil, &st, &bs)
				}
				for k := 0; k < span.Links().Len(); k++ {
					p.walk(span.Links().At(k).Attributes(), nil, &st, &bs)
				}
				bs.dropped[st.drop]++
				bs.removed += int64(st.removed)
				return st.drop != keep
			})
		}
	}
	p.tel.record(ctx, &bs)
	return td, nil
}

func (p *privacyProcessor) processMetrics(ctx context.Context, md pmetric.Metrics) (pmetric.Metrics, error) {
	var bs batchStats
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		res := p.resource(rm.Resource(), &bs)
		sms := rm.ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				p.metric(ms.At(k), res, &bs)
			}
		}
	}
	p.tel.record(ctx, &bs)
	return md, nil
}

// metric applies the policy to the data points of m; res is the reason
// their resource gives to drop them all, or keep.
func (p *privacyProcessor) metric(m pmetric.Metric, res dropReason, bs *batchStats) {
	dropPoint := func(attrs pcommon.Map) bool {
		if res != keep {
			bs.dropped[res]++
			return true
		}
		var st stats
		p.walk(attrs, nil, &st, bs)
		bs.dropped[st.drop]++
		bs.removed += int64(st.removed)
		return st.drop != keep
	}
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		m.Gauge().DataPoints().RemoveIf(func(dp pmetric.NumberDataPoint) bool { return dropPoint(dp.Attributes()) })
	case pmetric.MetricTypeSum:
		m.Sum().DataPoints().RemoveIf(func(dp pmetric.NumberDataPoint) bool { return dropPoint(dp.Attributes()) })
	case pmetric.MetricTypeHistogram:
		m.Histogram().DataPoints().RemoveIf(func(dp pmetric.HistogramDataPoint) bool { return dropPoint(dp.Attributes()) })
	case pmetric.MetricTypeExponentialHistogram:
		m.ExponentialHistogram().DataPoints().RemoveIf(func(dp pmetric.ExponentialHistogramDataPoint) bool { return dropPoint(dp.Attributes()) })
	case pmetric.MetricTypeSummary:
		m.Summary().DataPoints().RemoveIf(func(dp pmetric.SummaryDataPoint) bool { return dropPoint(dp.Attributes()) })
	}
}
