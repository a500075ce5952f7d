package audit

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
)

// FromHost returns the audit extension with id from the collector's host, for
// components whose config names one (`audit: audit`).
func FromHost(host component.Host, id component.ID) (Appender, error) {
	ext, ok := host.GetExtensions()[id]
	if !ok {
		return nil, fmt.Errorf("audit: extension %q is not configured in service.extensions", id)
	}
	a, ok := ext.(Appender)
	if !ok {
		return nil, fmt.Errorf("audit: extension %q is not an audit extension", id)
	}
	return a, nil
}

// Finder looks back in a log; *Log and the audit extension implement it, for
// components that compare their state with what they recorded last (the
// privacy processor's key id).
type Finder interface {
	// Last returns the last record for which match is true.
	Last(match func(Record) bool) (Record, bool, error)
}

// Last returns the last record of the log for which match is true.
func (l *Log) Last(match func(Record) bool) (Record, bool, error) {
	var found Record
	var ok bool
	err := Read(l.dir, timeZero, func(r Record) error {
		if match(r) {
			found, ok = r, true
		}
		return nil
	})
	return found, ok, err
}

var timeZero = time.Time{}
