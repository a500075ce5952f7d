package audit

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// recordAt returns the 1-based line that byte offset off of data belongs to
// (a line's newline belongs to it).
func recordAt(data []byte, off int) int {
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}

// TestTamperAnyByte changes every byte of a log file in turn, in two ways,
// and checks that Verify names the record holding that byte.
func TestTamperAnyByte(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, Options{})
	appendN(t, l, 4)
	fs, err := listFiles(dir)
	if err != nil || len(fs) != 1 {
		t.Fatalf("files %v: %v", fs, err)
	}
	path := filepath.Join(dir, fs[0].name)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for off := range orig {
		for _, flip := range []func(byte) byte{
			func(b byte) byte { return b ^ 0x01 },
			func(b byte) byte { return b ^ 0x20 }, // letter case: JSON keys in Go are case-insensitive
		} {
			mod := bytes.Clone(orig)
			mod[off] = flip(mod[off])
			if mod[off] == orig[off] {
				continue
			}
			if err := os.WriteFile(path, mod, 0o640); err != nil {
				t.Fatal(err)
			}
			_, err := Verify(dir)
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("byte %d (%q -> %q) changed: verify passed (%v)", off, orig[off], mod[off], err)
			}
			want := recordAt(orig, off)
			if ve.Line != want || ve.Seq != uint64(want) || ve.File != fs[0].name {
				t.Fatalf("byte %d (%q -> %q) of record %d changed: verify named %s", off, orig[off], mod[off], want, ve)
			}
		}
	}
	if err := os.WriteFile(path, orig, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(dir); err != nil {
		t.Fatalf("restored: %v", err)
	}
}

// TestDeleteAndReorder: removing or swapping whole lines breaks the chain.
func TestDeleteAndReorder(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, Options{})
	appendN(t, l, 4)
	fs, _ := listFiles(dir)
	path := filepath.Join(dir, fs[0].name)
	orig, _ := os.ReadFile(path)
	lines := bytes.SplitAfter(orig, []byte{'\n'})[:4]
	for name, c := range map[string]struct {
		data    [][]byte
		line    int
		problem string
	}{
		"delete 2":   {[][]byte{lines[0], lines[2], lines[3]}, 2, ProblemSeqGap},
		"swap 2 3":   {[][]byte{lines[0], lines[2], lines[1], lines[3]}, 2, ProblemSeqGap},
		"duplicate":  {[][]byte{lines[0], lines[1], lines[1], lines[2]}, 3, ProblemSeqGap},
		"delete 1":   {[][]byte{lines[1], lines[2]}, 1, ProblemFileName},
		"blank line": {[][]byte{lines[0], []byte("\n"), lines[1]}, 2, ProblemMalformed},
	} {
		if err := os.WriteFile(path, bytes.Join(c.data, nil), 0o640); err != nil {
			t.Fatal(err)
		}
		_, err := Verify(dir)
		var ve *VerifyError
		if !errors.As(err, &ve) || ve.Line != c.line || ve.Problem != c.problem {
			t.Errorf("%s: want line %d %s, got %v", name, c.line, c.problem, err)
		}
	}
}

// TestTruncatedTail: a cut last line is reported, and the next append cuts
// it off and continues the chain from the last complete record.
func TestTruncatedTail(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, Options{})
	rs := appendN(t, l, 3)
	fs, _ := listFiles(dir)
	path := filepath.Join(dir, fs[0].name)
	st, _ := os.Stat(path)
	if err := os.Truncate(path, st.Size()-40); err != nil {
		t.Fatal(err)
	}
	res, err := Verify(dir)
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.Problem != ProblemTruncated || ve.Line != 3 || ve.Seq != 3 {
		t.Fatalf("truncated: %v", err)
	}
	if res.Records != 2 || res.Head.Hash != rs[1].Hash {
		t.Fatalf("valid prefix: %+v", res)
	}
	// A second Log (another process) sees the cut and repairs it.
	l2 := openTest(t, dir, Options{})
	r, err := l2.Append(context.Background(), Entry{Action: ActionConfigLoad, Actor: "privacy"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Seq != 3 || r.Prev != rs[1].Hash {
		t.Fatalf("after repair: seq %d prev %q", r.Seq, r.Prev)
	}
	// The first Log's cached tail is stale; it must re-read it.
	r, err = l.Append(context.Background(), Entry{Action: ActionConfigLoad, Actor: "privacy"})
	if err != nil || r.Seq != 4 {
		t.Fatalf("stale appender: %+v %v", r, err)
	}
	if _, err := Verify(dir); err != nil {
		t.Fatal(err)
	}
}

// TestCorruptTailFailsAppend: a bad last complete record stops appends
// instead of chaining onto it.
func TestCorruptTailFailsAppend(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, Options{})
	appendN(t, l, 2)
	fs, _ := listFiles(dir)
	path := filepath.Join(dir, fs[0].name)
	b, _ := os.ReadFile(path)
	b[len(b)-10] ^= 1
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
	l2 := openTest(t, dir, Options{})
	if _, err := l2.Append(context.Background(), Entry{Action: ActionForget, Actor: "a"}); err == nil {
		t.Fatal("appended after a corrupt last record")
	}
}
