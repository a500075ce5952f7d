package audit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fixedClock returns a clock that advances one second per call from a fixed start.
func fixedClock() func() time.Time {
	t := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(time.Second)
		return t
	}
}

func openTest(t *testing.T, dir string, opts Options) *Log {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedClock()
	}
	l, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func appendN(t *testing.T, l *Log, n int) []Record {
	t.Helper()
	var rs []Record
	for i := range n {
		r, err := l.Append(context.Background(), Entry{
			Action: ActionForget, Actor: "admin-token", Source: "client:ab12",
			Object:  fmt.Sprintf("u_%04d", i),
			Details: map[string]string{"effective": "2026-12-01T10:00:00Z", "repeated": "false"},
		})
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	return rs
}

func TestAppendChains(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, Options{})
	rs := appendN(t, l, 5)
	for i, r := range rs {
		if r.Seq != uint64(i+1) {
			t.Fatalf("record %d: seq %d", i, r.Seq)
		}
		if i == 0 && r.Prev != "" || i > 0 && r.Prev != rs[i-1].Hash {
			t.Fatalf("record %d: prev %q does not link", i, r.Prev)
		}
	}
	res, err := Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 5 || res.Head.Hash != rs[4].Hash || res.Files != 1 {
		t.Fatalf("verify: %+v", res)
	}
	var got []Record
	if err := Read(dir, rs[2].Time, func(r Record) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Seq != 3 || got[0].Object != "u_0002" || got[0].Details["repeated"] != "false" {
		t.Fatalf("read since seq 3: %+v", got)
	}
}

func TestReopenContinuesChain(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, Options{})
	first := appendN(t, l, 2)
	_ = l.Close()
	if _, err := l.Append(context.Background(), Entry{Action: ActionForget, Actor: "x"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	l2 := openTest(t, dir, Options{})
	r := appendN(t, l2, 1)[0]
	if r.Seq != 3 || r.Prev != first[1].Hash {
		t.Fatalf("after reopen: seq %d prev %q", r.Seq, r.Prev)
	}
	if _, err := Verify(dir); err != nil {
		t.Fatal(err)
	}
}

func TestAppendRejectsBadEntries(t *testing.T) {
	l := openTest(t, t.TempDir(), Options{})
	for name, e := range map[string]Entry{
		"no action": {Actor: "a"},
		"no actor":  {Action: ActionForget},
		"empty key": {Action: ActionForget, Actor: "a", Details: map[string]string{"": "x"}},
		"too big":   {Action: ActionForget, Actor: "a", Details: map[string]string{"x": string(make([]byte, MaxRecordBytes))}},
	} {
		if _, err := l.Append(context.Background(), e); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if fs, _ := listFiles(l.Dir()); len(fs) != 0 {
		t.Fatalf("rejected entries left files: %v", fs)
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, Options{MaxFileBytes: 1000})
	rs := appendN(t, l, 20)
	fs, err := listFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) < 3 {
		t.Fatalf("20 records of ~330 bytes in 1000-byte files: %d files", len(fs))
	}
	for _, f := range fs {
		st, err := os.Stat(filepath.Join(dir, f.name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > 1000 {
			t.Errorf("%s: %d bytes > MaxFileBytes", f.name, st.Size())
		}
	}
	res, err := Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 20 || res.Files != len(fs) || res.Head.Hash != rs[19].Hash {
		t.Fatalf("verify: %+v", res)
	}
	// A missing file in the middle is named.
	if err := os.Remove(filepath.Join(dir, fs[1].name)); err != nil {
		t.Fatal(err)
	}
	_, err = Verify(dir)
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.Problem != ProblemMissingFile || ve.File != fs[2].name || ve.Seq != fs[1].firstSeq {
		t.Fatalf("missing %s: %v", fs[1].name, err)
	}
}
