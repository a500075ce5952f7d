package hll

import (
	"math"
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

// TestEstimateExtremes checks the estimator at both ends of its range: an
// empty sketch is 0, a saturated one saturates at math.MaxInt64 (toCount),
// and cardinalities far beyond what a test can hash (10^9 to 10^15 ids) are
// within the documented 2 % (about 2.5 standard errors). Their registers
// are drawn from the distribution n ids would give: a register that n/m ids
// land in (Poisson) holds at most k with probability exp(-(n/m)·2^-k).
func TestEstimateExtremes(t *testing.T) {
	regs := make([]uint8, numRegs)
	if got := toCount(estimate(regs)); got != 0 {
		t.Errorf("empty: %d, want 0", got)
	}
	for i := range regs {
		regs[i] = maxRank
	}
	if got := toCount(estimate(regs)); got != math.MaxInt64 {
		t.Errorf("saturated: %d, want %d", got, uint64(math.MaxInt64))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []float64{1e9, 1e12, 1e15} {
		lambda := n / numRegs
		for i := range regs {
			u := rng.Float64()
			regs[i] = maxRank
			for k := range maxRank {
				if math.Exp(-lambda*math.Exp2(-float64(k))) >= u {
					regs[i] = uint8(k)
					break
				}
			}
		}
		est := estimate(regs)
		if e := math.Abs(est-n) / n; e > 0.02 {
			t.Errorf("%.0e ids: estimate %.4g, error %.2f%% > 2%%", n, est, 100*e)
		}
	}
}
