package partstate

import (
	"context"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// readSnapshot fetches pt's chunks from the chunk topic at the offsets the
// pointer names and checks their count, size and checksum.
func (s *kafkaStore) readSnapshot(ctx context.Context, pt pointer) ([]byte, error) {
	where := fmt.Sprintf("snapshot of partition %d epoch %d seq %d (pointer at topic %q partition %d offset %d)",
		pt.p, pt.epoch, pt.seq, s.cfg.Topic, s.ctlPartition(pt.p), pt.offset)
	if pt.n == 0 {
		if pt.total != 0 || pt.crc != crc32.Checksum(nil, castagnoli) {
			return nil, fmt.Errorf("%s: no chunks but %d bytes", where, pt.total)
		}
		return []byte{}, nil
	}
	// Check the chunks are still in the log, so the fetch below always
	// reaches offset pt.last and ends.
	starts, err := s.adm.ListStartOffsets(ctx, s.cfg.ChunkTopic)
	if err != nil {
		return nil, fmt.Errorf("%s: listing start offsets of topic %q: %w", where, s.cfg.ChunkTopic, err)
	}
	ends, err := s.adm.ListEndOffsets(ctx, s.cfg.ChunkTopic)
	if err != nil {
		return nil, fmt.Errorf("%s: listing end offsets of topic %q: %w", where, s.cfg.ChunkTopic, err)
	}
	start, ok1 := starts.Lookup(s.cfg.ChunkTopic, pt.cpart)
	end, ok2 := ends.Lookup(s.cfg.ChunkTopic, pt.cpart)
	if !ok1 || !ok2 || start.Err != nil || end.Err != nil {
		return nil, fmt.Errorf("%s: topic %q has no partition %d", where, s.cfg.ChunkTopic, pt.cpart)
	}
	if pt.first < start.Offset || pt.last >= end.Offset {
		return nil, fmt.Errorf("%s: chunks at offsets %d..%d of topic %q partition %d are outside the log (%d..%d)",
			where, pt.first, pt.last, s.cfg.ChunkTopic, pt.cpart, start.Offset, end.Offset-1)
	}

	cl, err := kgo.NewClient(append(clientOpts(s.cfg, "-restore"),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{s.cfg.ChunkTopic: {pt.cpart: kgo.NewOffset().At(pt.first)}}),
		kgo.FetchMaxWait(50*time.Millisecond),
	)...)
	if err != nil {
		return nil, fmt.Errorf("%s: kafka consumer: %w", where, err)
	}
	defer cl.Close()
	parts := make([][]byte, pt.n)
	found := uint32(0)
	var skipped error
	for next := pt.first; next <= pt.last; {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%s: reading chunks at offset %d: %w", where, next, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset > pt.last || r.Offset < next {
				return
			}
			next = r.Offset + 1
			c, err := decodeChunk(r.Value)
			if err != nil {
				skipped = fmt.Errorf("record at offset %d: %w", r.Offset, err)
				return
			}
			if c.ident != pt.ident || c.seq != pt.seq || c.n != pt.n || parts[c.i] != nil {
				return // another partition's or another save's chunk
			}
			parts[c.i] = c.data // the record is ours: no pool hands it back
			found++
		})
	}
	if found != pt.n {
		for i, b := range parts {
			if b == nil {
				err := fmt.Errorf("%s: chunk %d of %d missing from topic %q partition %d offsets %d..%d",
					where, i, pt.n, s.cfg.ChunkTopic, pt.cpart, pt.first, pt.last)
				if skipped != nil {
					err = fmt.Errorf("%w (skipped %w)", err, skipped)
				}
				return nil, err
			}
		}
	}
	size := 0
	for _, b := range parts {
		size += len(b)
	}
	if uint64(size) != pt.total {
		return nil, fmt.Errorf("%s: chunks hold %d bytes, pointer says %d", where, size, pt.total)
	}
	state := make([]byte, 0, size)
	for _, b := range parts {
		state = append(state, b...)
	}
	if got := crc32.Checksum(state, castagnoli); got != pt.crc {
		return nil, fmt.Errorf("%s: crc32c %08x, pointer says %08x", where, got, pt.crc)
	}
	return state, nil
}
