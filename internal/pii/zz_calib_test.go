package pii

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"testing"
)

var lowerText = strings.Repeat("the quick brown fox jumps over the lazy dog and then some ", 18)

func BenchmarkZZChunkIdx(b *testing.B) {
	s := lowerText
	b.SetBytes(int64(len(s)))
	x := 0
	for b.Loop() {
		n := len(s)
		i := 0
		for i+8 <= n {
			c := s[i : i+8]
			if (cls[c[0]]|cls[c[1]]|cls[c[2]]|cls[c[3]]|cls[c[4]]|cls[c[5]]|cls[c[6]]|cls[c[7]])&cInt != 0 {
				x++
			}
			i += 8
		}
	}
	_ = x
}

var int8tab = func() (t [256]uint8) {
	for c := range 256 {
		if cls[c]&cInt != 0 {
			t[c] = 1
		}
	}
	return
}()

func BenchmarkZZChunkU64(b *testing.B) {
	s := lowerText
	b.SetBytes(int64(len(s)))
	x := 0
	for b.Loop() {
		n := len(s)
		i := 0
		for i+8 <= n {
			v := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
			if int8tab[byte(v)]|int8tab[byte(v>>8)]|int8tab[byte(v>>16)]|int8tab[byte(v>>24)]|int8tab[byte(v>>32)]|int8tab[byte(v>>40)]|int8tab[byte(v>>48)]|int8tab[byte(v>>56)] != 0 {
				x++
			}
			i += 8
		}
	}
	_ = x
}

func BenchmarkZZScanLower(b *testing.B) {
	sc, _ := New(Options{})
	s := lowerText
	b.SetBytes(int64(len(s)))
	var dst []Match
	for b.Loop() {
		dst = sc.Scan(dst[:0], s)
	}
}

func floorLoop(s string) int {
	n := len(s)
	i := 0
	cnt := 0
	for {
		for i+8 <= n {
			b := s[i : i+8]
			m := uint64(intr[b[0]]) | uint64(intr[b[1]])<<8 | uint64(intr[b[2]])<<16 | uint64(intr[b[3]])<<24 |
				uint64(intr[b[4]])<<32 | uint64(intr[b[5]])<<40 | uint64(intr[b[6]])<<48 | uint64(intr[b[7]])<<56
			if m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto found
			}
			i += 8
		}
		for i < n && intr[s[i]] == 0 {
			i++
		}
		if i >= n {
			return cnt
		}
	found:
		cnt++
		i++
		for i < n && cls[s[i]]&cWord != 0 {
			i++
		}
	}
}

func BenchmarkZZFloor(b *testing.B) {
	n := 0
	for _, v := range cleanEvent {
		n += len(v)
	}
	b.SetBytes(int64(n))
	x := 0
	for b.Loop() {
		for _, v := range cleanEvent {
			x += floorLoop(v)
		}
	}
	_ = x
}
