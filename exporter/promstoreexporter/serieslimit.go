package promstoreexporter // import "github.com/pulse-otel/pulse/exporter/promstoreexporter"

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunks"
)

// errSeriesLimit is what the head answers for a sample of a new series
// past limits.max_series.
var errSeriesLimit = errors.New("series limit reached")

// seriesLimitError says which limit refused a new series; it names no
// label, which clients choose.
type seriesLimitError struct{ max int64 }

func (e seriesLimitError) Error() string {
	return fmt.Sprintf("the TSDB head holds limits.max_series (%d) series: samples of new series are refused", e.max)
}

func (seriesLimitError) Is(target error) bool { return target == errSeriesLimit }

// seriesLimiter caps the head's series, as Mimir's max_global_series_per_user
// does: samples of series the head has keep being accepted, samples that
// would create a series past the cap are refused. It enforces nothing until
// head is set, after the WAL replay, so that nothing acknowledged before a
// restart (or a lowered limit) is dropped. Concurrent appends may overshoot
// the cap by the number of appenders.
type seriesLimiter struct {
	max  int64 // 0: unlimited
	head atomic.Pointer[tsdb.Head]
}

var _ tsdb.SeriesLifecycleCallback = (*seriesLimiter)(nil)

func (l *seriesLimiter) PreCreation(labels.Labels) error {
	if l.max <= 0 {
		return nil
	}
	if h := l.head.Load(); h != nil && int64(h.NumSeries()) >= l.max {
		return seriesLimitError{max: l.max}
	}
	return nil
}

func (*seriesLimiter) PostCreation(labels.Labels)                          {}
func (*seriesLimiter) PostDeletion(map[chunks.HeadSeriesRef]labels.Labels) {}
