// Package knob reads the testbed's benchmark settings from the
// environment (QUERYBENCH_VIEWERS=1000, LIVEBENCH_DURATION=2m): a value
// that does not parse fails the test, naming the variable; an unset one
// is the default.
package knob // import "github.com/pulse-otel/pulse/testbed/internal/knob"

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// Int is the integer in $key, or def.
func Int(t testing.TB, key string, def int) int {
	t.Helper()
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return n
}

// Duration is the Go duration in $key (2m, 500ms), or def.
func Duration(t testing.TB, key string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return d
}

// String is $key, or def when it is unset or empty.
func String(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
