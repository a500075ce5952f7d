package retentionbench

import (
	"slices"
	"time"
)

// Percentiles are latency percentiles of one sample of queries.
type Percentiles struct {
	N             int
	P50, P95, P99 time.Duration
}

// percentiles of d by nearest rank; d is sorted in place.
func percentiles(d []time.Duration) Percentiles {
	if len(d) == 0 {
		return Percentiles{}
	}
	slices.Sort(d)
	at := func(p float64) time.Duration { return d[min(len(d)-1, int(float64(len(d))*p))] }
	return Percentiles{N: len(d), P50: at(0.50), P95: at(0.95), P99: at(0.99)}
}

// median of the rounds' percentiles, each percentile on its own.
func median(rounds []Percentiles) Percentiles {
	if len(rounds) == 0 {
		return Percentiles{}
	}
	pick := func(f func(Percentiles) time.Duration) time.Duration {
		v := make([]time.Duration, len(rounds))
		for i, r := range rounds {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	n := 0
	for _, r := range rounds {
		n += r.N
	}
	return Percentiles{
		N:   n,
		P50: pick(func(p Percentiles) time.Duration { return p.P50 }),
		P95: pick(func(p Percentiles) time.Duration { return p.P95 }),
		P99: pick(func(p Percentiles) time.Duration { return p.P99 }),
	}
}
