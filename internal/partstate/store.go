package partstate

import (
	"context"
	"errors"
)

// Store keeps each input partition's state where any shard can read it.
type Store interface {
	// Claim makes this process the owner of partition p and returns the
	// latest state saved for p by any owner (nil when none) and the epoch
	// it now owns p at. Claim always takes a new epoch, also when this
	// process owned p already: not claiming a partition twice is the
	// caller's job. When snapshots exist but none can be read, Claim
	// returns the epoch it won with an error wrapping ErrUnreadable. A
	// Claim that fails otherwise may still have been written and taken p
	// from its previous owner: call it again.
	Claim(ctx context.Context, p int32) (state []byte, epoch uint64, err error)
	// Save stores p's state durably (acknowledged by the store) if no
	// other process has claimed p after epoch, as far as this process
	// knows; it returns ErrLost when one has, and the caller then drops
	// its state without exporting it.
	Save(ctx context.Context, p int32, epoch uint64, state []byte) error
	// Lost reports whether another process has claimed p after epoch
	// (cheap: no I/O, called every flush). A closed store has lost
	// everything.
	Lost(p int32, epoch uint64) bool
	// Close releases the store; Claim and Save fail with ErrClosed after it.
	Close() error
}

var (
	// ErrLost is returned by Save when another owner claimed the partition.
	ErrLost = errors.New("partstate: partition claimed by another owner")
	// ErrClosed is returned by Claim and Save after Close.
	ErrClosed = errors.New("partstate: store closed")
	// ErrUnreadable is wrapped by Claim's error when snapshots were saved
	// for the partition but none of them could be read back; the claim
	// itself succeeded and its epoch is returned.
	ErrUnreadable = errors.New("partstate: no readable snapshot")
)
