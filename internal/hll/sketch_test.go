package hll

import (
	"math/rand/v2"
	"testing"
)

func TestMergeMax(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		a := make([]uint8, numRegs)
		b := make([]uint8, numRegs)
		for i := range a {
			limit := uint(maxRank + 1)
			if round%2 == 1 {
				limit = 128 // the whole range mergeMax supports
			}
			a[i], b[i] = uint8(rng.UintN(limit)), uint8(rng.UintN(limit))
		}
		want := make([]uint8, numRegs)
		for i := range want {
			want[i] = max(a[i], b[i])
		}
		mergeMax(a, b)
		for i := range want {
			if a[i] != want[i] {
				t.Fatalf("round %d register %d: %d, want %d", round, i, a[i], want[i])
			}
		}
	}
}

func TestHashIDRange(t *testing.T) {
	for i := range 100_000 {
		reg, rank := hashID(id(i))
		if reg >= numRegs || rank < 1 || rank > maxRank {
			t.Fatalf("hashID(%q) = %d, %d", id(i), reg, rank)
		}
	}
}

func TestEstimateExtremes(t *testing.T) {
	regs := make([]uint8, numRegs)
	if got := toCount(estimate(regs)); got != 0 {
		t.Errorf("empty: %d", got)
	}
	for i := range regs {
		regs[i] = maxRank
	}
	if got := toCount(estimate(regs)); got == 0 {
		t.Errorf("saturated: %d", got)
	}
}
