package hll

import (
	"encoding/binary"
	"math"
	"math/bits"

	"github.com/cespare/xxhash/v2"
)

// Sketch parameters. They are part of the persisted format: changing any of
// them (or the hash) needs a new format version.
const (
	precision = 14                 // p: 2^14 registers, standard error 1.04/sqrt(m) ≈ 0.81 %
	numRegs   = 1 << precision     // m
	rankBits  = 64 - precision     // q: hash bits left after the register index
	maxRank   = rankBits + 1       // largest register value (all q bits zero)
	alphaInf  = 0.7213475204444817 // 1 / (2 ln 2)
)

// hashID hashes id once and returns the register it lands in and the rank
// (1 + number of trailing zeros of the remaining bits, capped at q+1) that
// HyperLogLog keeps in that register.
func hashID(id string) (reg uint32, rank uint8) {
	h := xxhash.Sum64String(id)
	reg = uint32(h & (numRegs - 1))
	rank = uint8(bits.TrailingZeros64(h>>precision|1<<rankBits) + 1)
	return reg, rank
}

// mergeMax sets dst[i] = max(dst[i], src[i]): the union of two sketches.
// Both have numRegs registers, all below 128 (ranks are at most maxRank),
// which lets it compare 8 registers at a time: for bytes a, b < 128,
// (a|0x80) - b has its high bit set exactly when a >= b, and the
// subtraction never borrows from the next byte.
func mergeMax(dst, src []uint8) {
	const hi = 0x8080808080808080
	dst, src = dst[:numRegs], src[:numRegs]
	for i := 0; i+8 <= numRegs; i += 8 {
		a := binary.LittleEndian.Uint64(dst[i:])
		b := binary.LittleEndian.Uint64(src[i:])
		ge := (((a | hi) - b) & hi >> 7) * 0xff // 0xff in each byte where a >= b
		binary.LittleEndian.PutUint64(dst[i:], a&ge|b&^ge)
	}
}

// estimate returns the cardinality estimate of a dense register array.
//
// It is Otmar Ertl's "improved raw estimator" (O. Ertl, New cardinality
// estimation algorithms for HyperLogLog sketches, arXiv:1702.01284, 2017,
// algorithm 6; the same estimator Redis uses since 5.0). It needs no
// empirical bias tables: the corrections for small cardinalities (where it
// behaves like linear counting) and for very large ones (registers at the
// rank cap) are analytic, and it is essentially unbiased over the whole
// range, including the 2.5m..5m transition where the original HyperLogLog
// switches between linear counting and the raw estimate.
func estimate(regs []uint8) float64 {
	var c [256]int // indexed by register value; values above maxRank cannot occur
	for _, v := range regs {
		c[v]++
	}
	m := float64(len(regs))
	z := m * tau(1-float64(c[maxRank])/m)
	for k := rankBits; k >= 1; k-- {
		z += float64(c[k])
		z *= 0.5
	}
	z += m * sigma(float64(c[0])/m)
	return alphaInf * m * m / z
}

// sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1), for x in [0, 1].
func sigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y := 1.0
	z := x
	for {
		x *= x
		zPrev := z
		z += x * y
		y += y
		if z == zPrev {
			return z
		}
	}
}

// tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3, for x in [0, 1].
func tau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y := 1.0
	z := 1 - x
	for {
		x = math.Sqrt(x)
		zPrev := z
		y *= 0.5
		z -= (1 - x) * (1 - x) * y
		if z == zPrev {
			return z / 3
		}
	}
}

// toCount rounds an estimate to a count, saturating instead of relying on
// the implementation-defined float-to-integer conversion of huge values.
func toCount(est float64) uint64 {
	switch {
	case math.IsNaN(est) || est <= 0:
		return 0
	case est >= math.MaxInt64:
		return math.MaxInt64
	}
	return uint64(est + 0.5)
}
