package audit

import (
	"context"
	"testing"
	"time"
)

// BenchmarkAppend is one durable append: encode, hash, write, fsync. The
// fsync dominates; audit records come at the rate of admin actions.
func BenchmarkAppend(b *testing.B) {
	l, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	e := Entry{Action: ActionForget, Actor: "admin-token", Source: "client:835b3ecf50d773eb", Object: "72c4e1074e3821aa",
		Details: map[string]string{"outcome": "new", "effective": "2026-12-03T17:31:21Z", "request_id": "f912348fb651bd737b01b235c73de116"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Append(context.Background(), e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify walks a log of 2000 records.
func BenchmarkVerify(b *testing.B) {
	dir := b.TempDir()
	l, err := Open(dir, Options{Now: func() time.Time { return time.Unix(1764000000, 0) }})
	if err != nil {
		b.Fatal(err)
	}
	for range 2000 {
		if _, err := l.Append(context.Background(), Entry{Action: ActionConfigLoad, Actor: "privacy", Details: map[string]string{"key_id": "local-1"}}); err != nil {
			b.Fatal(err)
		}
	}
	_ = l.Close()
	b.ReportAllocs()
	for b.Loop() {
		res, err := Verify(dir)
		if err != nil || res.Records != 2000 {
			b.Fatal(res, err)
		}
	}
}
