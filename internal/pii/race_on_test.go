//go:build race

package pii

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// the pooled normalised copy may be allocated again.
const raceEnabled = true
