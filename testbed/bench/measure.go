package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/pulse-otel/pulse/testbed/loadgen"
)

// result is one measured run.
type result struct {
	target target
	cfg    loadgen.Config
	st     loadgen.Stats
	// cpu and rss per process (procs[0] is the collector), over the load.
	cpu       []time.Duration
	rss       []int64
	procNames []string
	// stored is the store's count once it settled; settle how long after
	// the load that took.
	stored float64
	settle time.Duration
	// fresh are the probes' send-to-visible times; unresolved counts
	// probes never visible.
	fresh      []time.Duration
	unresolved int
	// spread holds every run a median was chosen from.
	spread []result
}

// Probes: every probeEvery the number of events handed to the network so
// far is noted; the store is queried every pollEvery and a probe is
// resolved by the first answer that counts at least that many events.
const (
	probeEvery = 100 * time.Millisecond
	pollEvery  = 50 * time.Millisecond
	settleMax  = 30 * time.Second
)

type probe struct {
	at     time.Time
	events int64
}

func measure(t target, cfg loadgen.Config, d time.Duration) (result, error) {
	sys, err := t.start(t)
	if err != nil {
		return result{}, err
	}
	res, err := measureOn(sys, t, cfg, d)
	if serr := sys.stop(); err == nil && serr != nil {
		err = serr
	}
	return res, err
}

func measureOn(sys *system, t target, cfg loadgen.Config, d time.Duration) (result, error) {
	cfg.URL = sys.url
	res := result{target: t, cfg: cfg}
	client := &http.Client{Timeout: 5 * time.Second}
	cpu0 := make([]time.Duration, len(sys.procs))
	res.rss = make([]int64, len(sys.procs))
	for i, p := range sys.procs {
		cpu0[i], _ = p.stats()
		res.procNames = append(res.procNames, p.name)
	}
	progress := new(loadgen.Progress)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()

	var mu sync.Mutex
	var pending []probe
	var wg sync.WaitGroup
	stopProbes := make(chan struct{})
	wg.Add(2)
	go func() { // probes and RSS samples while the load runs
		defer wg.Done()
		tick := time.NewTicker(probeEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tick.C:
				mu.Lock()
				pending = append(pending, probe{now, progress.Started.Load()})
				for i, p := range sys.procs {
					_, rss := p.stats()
					res.rss[i] = max(res.rss[i], rss)
				}
				mu.Unlock()
			}
		}
	}()
	go func() { // resolves probes until told to stop
		defer wg.Done()
		tick := time.NewTicker(pollEvery)
		defer tick.Stop()
		for {
			select {
			case <-stopProbes:
				return
			case <-tick.C:
			}
			n, err := sys.count(client)
			if err != nil {
				continue
			}
			seen := time.Now()
			mu.Lock()
			k := 0
			for _, p := range pending {
				if float64(p.events) <= n {
					res.fresh = append(res.fresh, seen.Sub(p.at))
				} else {
					pending[k] = p
					k++
				}
			}
			pending = pending[:k]
			mu.Unlock()
		}
	}()

	if sys.pprof != "" {
		path := profilePath + ".max"
		if cfg.Rate > 0 {
			path = profilePath + ".sustained"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fetchProfile(sys.pprof, d-time.Second, path); err != nil {
				fmt.Println("profile:", err)
			}
		}()
	}
	st, err := loadgen.Run(ctx, cfg, 0, progress)
	loadEnd := time.Now()
	if err != nil {
		close(stopProbes)
		wg.Wait()
		return res, err
	}
	res.st = st
	res.cpu = make([]time.Duration, len(sys.procs))
	for i, p := range sys.procs {
		c, rss := p.stats()
		res.cpu[i] = c - cpu0[i]
		res.rss[i] = max(res.rss[i], rss)
	}
	// Settle: wait until the store counts every acknowledged event.
	for time.Since(loadEnd) < settleMax {
		n, err := sys.count(client)
		if err == nil {
			res.stored = n
			if n >= float64(st.Accepted) {
				break
			}
		}
		time.Sleep(pollEvery)
	}
	res.settle = time.Since(loadEnd)
	time.Sleep(2 * pollEvery) // let the poller resolve the last probes
	close(stopProbes)
	wg.Wait()
	res.unresolved = len(pending)
	return res, nil
}

// profilePath is where -profile writes.
var profilePath string

// fetchProfile writes a CPU profile over d to path, then the allocation
// profile (since the start) to path.allocs.
func fetchProfile(base string, d time.Duration, path string) error {
	if err := fetch(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", base, int(d.Seconds())), path); err != nil {
		return err
	}
	return fetch(base+"/debug/pprof/allocs", path+".allocs")
}

func fetch(url, path string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, resp.Body)
	return errors.Join(err, f.Close())
}

func (r result) wall() time.Duration { return r.st.Elapsed }

// rate is the events/s acknowledged.
func (r result) rate() float64 { return float64(r.st.Accepted) / r.wall().Seconds() }

// perEvent is the CPU per acknowledged event of procs[0:n].
func (r result) perEvent(n int) time.Duration {
	var cpu time.Duration
	for _, c := range r.cpu[:n] {
		cpu += c
	}
	return cpu / time.Duration(max(r.st.Accepted, 1))
}

// perCore is events/s per core: acknowledged events per CPU second of
// procs[0:n].
func (r result) perCore(n int) float64 {
	var cpu time.Duration
	for _, c := range r.cpu[:n] {
		cpu += c
	}
	return float64(r.st.Accepted) / max(cpu.Seconds(), 1e-9)
}

func (r result) lost() int64 { return max(r.st.Accepted-int64(r.stored), 0) }

func (r result) quantile(q float64) time.Duration {
	if len(r.fresh) == 0 {
		return -1
	}
	s := slices.Clone(r.fresh)
	slices.Sort(s)
	return s[min(int(q*float64(len(s))), len(s)-1)]
}

func (r result) summary() string {
	return fmt.Sprintf("  %s: sent %d, acknowledged %d (%.0f/s), stored %.0f, statuses %v, failed %d; collector %.2f CPU s (%.1f µs/event, %.0f events/s per core), RSS %.0f MiB; freshness p50 %s p99 %s (%d probes, %d unresolved); settled in %s",
		r.target.name, r.st.Sent, r.st.Accepted, r.rate(), r.stored, r.st.Status, r.st.Failed,
		r.cpu[0].Seconds(), us(r.perEvent(1)), r.perCore(1), mib(r.rss[0]),
		r.quantile(0.5).Round(time.Millisecond), r.quantile(0.99).Round(time.Millisecond), len(r.fresh), r.unresolved, r.settle.Round(time.Millisecond))
}

// median returns the run with the median events/s per core.
func median(rs []result) result {
	s := slices.Clone(rs)
	sort.Slice(s, func(i, j int) bool { return s[i].perCore(1) < s[j].perCore(1) })
	m := s[len(s)/2]
	m.spread = rs
	return m
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
func mib(b int64) float64        { return float64(b) / (1 << 20) }
