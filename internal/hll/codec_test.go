package hll

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// denseState returns the encoding of a DefaultWindows Ring at testNow with
// one bucket, dense: 20000 ids three days ago. With sparse, it makes
// sampleState: a dense bucket and sparse ones of every width.
func denseState(t testing.TB, sparse bool) []byte {
	t.Helper()
	r := newTestRing(t, DefaultWindows(), testNow)
	for i := range 20_000 {
		r.Add(id(i), testNow.Add(-3*24*time.Hour))
	}
	if sparse {
		for i := range 300 {
			r.Add(id(i), testNow.Add(-time.Duration(i%30)*time.Minute))
		}
		for d := 4; d < 30; d++ {
			for i := range d {
				r.Add(id(1000*d+i), testNow.Add(-time.Duration(d)*24*time.Hour))
			}
		}
	}
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sampleState(t testing.TB) []byte {
	t.Helper()
	return denseState(t, true)
}

// smallState is the encoding of a Ring with a few ids: sparse buckets only.
func smallState(t testing.TB) []byte {
	t.Helper()
	r := newTestRing(t, DefaultWindows(), testNow)
	for i := range 5 {
		r.Add(id(i), testNow.Add(-time.Duration(i)*time.Hour))
	}
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withCRC returns a copy of b with its checksum recomputed, so that a test
// or the fuzzer reaches the checks behind it.
func withCRC(b []byte) []byte {
	if len(b) < crcLen {
		return append([]byte(nil), b...)
	}
	out := append([]byte(nil), b...)
	body := out[:len(out)-crcLen]
	binary.BigEndian.PutUint32(out[len(body):], crc32.Checksum(body, castagnoli))
	return out
}

// edit returns state with body[at:at+len(old)] replaced by repl, checksum
// fixed.
func edit(state []byte, at int, del int, repl ...byte) []byte {
	body := state[:len(state)-crcLen]
	out := append([]byte(nil), body[:at]...)
	out = append(out, repl...)
	out = append(out, body[at+del:]...)
	return withCRC(append(out, 0, 0, 0, 0))
}

// firstSlot returns the offset of the first slot of an encoded Ring.
func firstSlot(t testing.TB, state []byte) int {
	t.Helper()
	r := newTestRing(t, DefaultWindows(), testNow)
	layout := r.appendLayout(nil)
	off := headerLen + len(layout)
	_, n := binary.Uvarint(state[off:])
	return off + n
}

// kindOffset returns the offset of the register encoding of the first slot.
func kindOffset(t testing.TB, state []byte) int {
	t.Helper()
	slot := firstSlot(t, state) // width byte, bucket varint, kind byte, ...
	_, bucketLen := binary.Varint(state[slot+1:])
	return slot + 1 + bucketLen
}

func TestUnmarshalErrors(t *testing.T) {
	state := smallState(t)
	slot := firstSlot(t, state)
	kindAt := kindOffset(t, state)
	_, gapLen := binary.Uvarint(state[kindAt+2:])
	valueAt := kindAt + 2 + gapLen

	other, _ := NewRing([]Window{{"1h", time.Hour, 10 * time.Minute}, {"1d", 24 * time.Hour, time.Hour}})
	other.SetClock(fixedClock(testNow))
	otherState, _ := other.MarshalBinary()

	dup := func() []byte {
		// Repeat the first slot: same bucket, same ring slot.
		body := state[:len(state)-crcLen]
		end := kindAt + 1
		n, m := binary.Uvarint(body[end:])
		end += m
		for range n {
			_, m := binary.Uvarint(body[end:])
			end += m + 1
		}
		countAt := slot - uvarintLen(0)
		cnt, _ := binary.Uvarint(body[countAt:])
		out := append([]byte(nil), body[:countAt]...)
		out = binary.AppendUvarint(out, cnt+1)
		out = append(out, body[slot:end]...)
		out = append(out, body[slot:]...)
		return withCRC(append(out, 0, 0, 0, 0))
	}()

	for _, tc := range []struct {
		name string
		data []byte
		is   error
		want string
	}{
		{"nil", nil, ErrCorrupt, "0 bytes, shorter than"},
		{"short", []byte("PHLL\x01"), ErrCorrupt, "5 bytes"},
		{"magic", withCRC(append([]byte("XHLL"), state[4:]...)), ErrCorrupt, `does not start with "PHLL"`},
		{"bit flip", func() []byte { b := append([]byte(nil), state...); b[len(b)/2] ^= 4; return b }(), ErrCorrupt, "checksum mismatch"},
		{"truncated", state[:len(state)-1], ErrCorrupt, "checksum mismatch"},
		{"version", edit(state, 4, 1, 2), ErrVersion, "format version 2, this build reads version 1"},
		{"precision", edit(state, 5, 1, 12), ErrVersion, "precision 12"},
		{"hash", edit(state, 6, 1, 9), ErrVersion, "hash function 9"},
		{"other layout", otherState, ErrLayout, `state (offset 7) has windows ["1d"=24h0m0s/1h0m0s "1h"=1h0m0s/10m0s], this Ring has ["1d"=24h0m0s/1h0m0s "1h"=1h0m0s/5m0s "30d"=720h0m0s/24h0m0s "7d"=168h0m0s/24h0m0s]`},
		{"no windows", edit(state, 7, 1, 0), ErrLayout, "has windows [], this Ring has"},
		{"window count", edit(state, 7, 1, 255), ErrCorrupt, "at offset"},
		{"slot count", edit(state, slot-1, 1, 0xff, 0x7f), ErrCorrupt, "16383 bucket slots"},
		{"width index", edit(state, slot, 1, 7), ErrCorrupt, "width index 7, the layout has 3 widths"},
		{"kind", edit(state, kindAt, 1, 5), ErrCorrupt, "register encoding 5"},
		{"sparse count zero", edit(state, kindAt+1, 1, 0), ErrCorrupt, "0 sparse registers"},
		{"sparse value", edit(state, valueAt, 1, 52), ErrCorrupt, "= 52"},
		{"sparse gap", edit(state, kindAt+2, 1, 0xff, 0xff, 0x01), ErrCorrupt, "goes past register 16383"},
		{"duplicate slot", dup, ErrCorrupt, "takes the ring slot of bucket"},
		{"trailing", edit(state, len(state)-crcLen, 0, 1, 2, 3), ErrCorrupt, "3 unexpected bytes after the last slot"},
		{"slot cut", edit(state, kindAt+1, len(state)-crcLen-kindAt-1), ErrCorrupt, "sparse register count at offset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRing(t, DefaultWindows(), testNow)
			r.Add("keep", testNow)
			err := r.UnmarshalBinary(tc.data)
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("UnmarshalBinary = %v\nwant %v containing %q", err, tc.is, tc.want)
			}
			if got := estimateOf(t, r, "1h", testNow); got != 1 {
				t.Errorf("the Ring changed on error: 1h = %d, want 1", got)
			}
		})
	}

	var zero Ring
	if err := zero.UnmarshalBinary(state); err == nil || !strings.Contains(err.Error(), "not made by NewRing") {
		t.Errorf("zero Ring: %v", err)
	}
}

func TestUnmarshalDenseRegisterRange(t *testing.T) {
	state := denseState(t, false)
	r := newTestRing(t, DefaultWindows(), testNow)
	if err := r.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	kindAt := kindOffset(t, state)
	if state[kindAt] != kindDense {
		t.Fatalf("first slot is not dense")
	}
	bad := edit(state, kindAt+1+100, 1, 52)
	if err := r.UnmarshalBinary(bad); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "register 100 = 52") {
		t.Fatalf("UnmarshalBinary = %v", err)
	}
}

// Every prefix and every one-byte change of a valid state, with and without
// a fixed-up checksum, is rejected or accepted without a panic.
func TestUnmarshalMutations(t *testing.T) {
	state := smallState(t)
	r := newTestRing(t, DefaultWindows(), testNow)
	for n := range len(state) {
		if err := r.UnmarshalBinary(state[:n]); err == nil {
			t.Fatalf("prefix of %d bytes accepted", n)
		}
		// A truncated state with a valid CRC may be accepted or refused; it
		// must only not panic.
		_ = r.UnmarshalBinary(withCRC(state[:n]))
	}
	for i := range len(state) - crcLen {
		for _, x := range []byte{1, 0x80, 0xff} {
			b := append([]byte(nil), state...)
			b[i] ^= x
			if err := r.UnmarshalBinary(b); err == nil {
				t.Fatalf("byte %d ^ %#x accepted with the old checksum", i, x)
			}
			if r.UnmarshalBinary(withCRC(b)) == nil {
				checkReencode(t, r)
			}
		}
	}
}

// checkReencode checks that a Ring that accepted a state encodes and
// decodes it again, stably, and estimates every window.
func checkReencode(t testing.TB, r *Ring) {
	t.Helper()
	for _, w := range r.Windows() {
		if _, err := r.Estimate(w.Name, testNow); err != nil {
			t.Fatal(err)
		}
	}
	b1, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	r2 := newTestRing(t, DefaultWindows(), testNow)
	if err := r2.UnmarshalBinary(b1); err != nil {
		t.Fatalf("re-encoded state rejected: %v", err)
	}
	b2, _ := r2.MarshalBinary()
	if string(b1) != string(b2) {
		t.Fatalf("re-encoding is not stable")
	}
}

func FuzzUnmarshal(f *testing.F) {
	f.Add(sampleState(f))
	f.Add(smallState(f))
	empty, _ := newTestRing(f, DefaultWindows(), testNow).MarshalBinary()
	f.Add(empty)
	f.Fuzz(func(t *testing.T, data []byte) {
		r := newTestRing(t, DefaultWindows(), testNow)
		if r.UnmarshalBinary(data) == nil {
			checkReencode(t, r)
		}
		// The checksum stops almost every mutation; fix it up so that the
		// decoder behind it is fuzzed too.
		if r.UnmarshalBinary(withCRC(data)) == nil {
			checkReencode(t, r)
		}
	})
}

var genFuzzSeeds = flag.Bool("gen-fuzz-seeds", false, "rewrite testdata/fuzz/FuzzUnmarshal seeds")

// TestGenerateFuzzSeeds writes the committed seed corpus:
//
//	go test ./internal/hll -run TestGenerateFuzzSeeds -gen-fuzz-seeds
func TestGenerateFuzzSeeds(t *testing.T) {
	if !*genFuzzSeeds {
		t.Skip("run with -gen-fuzz-seeds to rewrite the seed corpus")
	}
	state := smallState(t)
	other, _ := NewRing([]Window{{"1h", time.Hour, 10 * time.Minute}})
	other.SetClock(fixedClock(testNow))
	other.Add("x", testNow)
	otherState, _ := other.MarshalBinary()
	empty, _ := newTestRing(t, DefaultWindows(), testNow).MarshalBinary()
	seeds := map[string][]byte{
		"dense":        denseState(t, false),
		"sparse":       state,
		"empty":        empty,
		"other-layout": otherState,
		"truncated":    state[:len(state)/2],
		"version2":     edit(state, 4, 1, 2),
		"bad-kind":     edit(state, kindOffset(t, state), 1, 9),
		"trailing":     edit(state, len(state)-crcLen, 0, 1, 2, 3),
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzUnmarshal")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range seeds {
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
