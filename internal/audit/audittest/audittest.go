// Package audittest reads an audit directory in tests: the chain must
// verify, and the records come back in order.
package audittest // import "github.com/pulse-otel/pulse/internal/audit/audittest"

import (
	"testing"
	"time"

	"github.com/pulse-otel/pulse/internal/audit"
)

// Records verifies the chain in dir and returns every record, failing t
// when the chain is broken or unreadable.
func Records(t testing.TB, dir string) []audit.Record {
	t.Helper()
	if _, err := audit.Verify(dir); err != nil {
		t.Fatalf("audit chain in %s: %v", dir, err)
	}
	var rs []audit.Record
	if err := audit.Read(dir, time.Time{}, func(r audit.Record) error { rs = append(rs, r); return nil }); err != nil {
		t.Fatalf("read audit records in %s: %v", dir, err)
	}
	return rs
}
