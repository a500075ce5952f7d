package retentionbench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/pulse-otel/pulse/internal/retention"
)

// BlockBytes is the size of dir's blocks on disk: their chunks, index,
// tombstones and meta files (not the WAL or the head).
func BlockBytes(dir string) (int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "meta.json")); err != nil || !e.IsDir() {
			continue
		}
		err := filepath.WalkDir(filepath.Join(dir, e.Name()), func(_ string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return total, nil
}

// Chunks is what one resolution's series hold in a store's blocks.
type Chunks struct {
	Series, Chunks, Samples int
	// Bytes are the chunks' encoded data, without the chunk files'
	// per-chunk header and checksum or the index.
	Bytes int64
}

// TierChunks counts the chunks of each resolution's series in dir's blocks.
func TierChunks(ctx context.Context, dir string, tiers []Tier) (map[string]Chunks, error) {
	db, err := tsdb.OpenDBReadOnly(dir, "", quiet)
	if err != nil {
		return nil, err
	}
	defer func() { _ = db.Close() }()
	q, err := db.ChunkQuerier(math.MinInt64, math.MaxInt64)
	if err != nil {
		return nil, err
	}
	defer func() { _ = q.Close() }()
	out := map[string]Chunks{}
	for _, t := range tiers {
		var m *labels.Matcher
		if t.Resolution == retention.Raw {
			m = labels.MustNewMatcher(labels.MatchNotRegexp, model.MetricNameLabel, ".*:.*")
		} else {
			m = labels.MustNewMatcher(labels.MatchRegexp, model.MetricNameLabel, ".*"+retention.DownsampledName("", t.Resolution))
		}
		var c Chunks
		ss := q.Select(ctx, false, nil, m)
		for ss.Next() {
			c.Series++
			ci := ss.At().Iterator(nil)
			for ci.Next() {
				meta := ci.At()
				c.Chunks++
				c.Samples += meta.Chunk.NumSamples()
				c.Bytes += int64(len(meta.Chunk.Bytes()))
			}
			if err := ci.Err(); err != nil {
				return nil, err
			}
		}
		if err := ss.Err(); err != nil {
			return nil, fmt.Errorf("%s series: %w", t.Resolution, err)
		}
		out[t.Resolution] = c
	}
	return out, nil
}

// RawOnly makes rawDir the store without the policy for the raw tier's
// period: policyDir's blocks that hold raw samples, hard-linked, with every
// downsampled series deleted through the TSDB (Delete, CleanTombstones),
// which rewrites them as the raw series alone. Writing the raw samples a
// second time would cost minutes more and give the same chunks.
func RawOnly(ctx context.Context, policyDir, rawDir string, rawFrom time.Time, keep time.Duration) error {
	entries, err := os.ReadDir(policyDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		meta, err := os.ReadFile(filepath.Join(policyDir, e.Name(), "meta.json"))
		if err != nil {
			continue // not a block
		}
		var m struct {
			MaxTime int64 `json:"maxTime"`
		}
		if err := json.Unmarshal(meta, &m); err != nil {
			return fmt.Errorf("block %s: %w", e.Name(), err)
		}
		if m.MaxTime <= rawFrom.UnixMilli() {
			continue // downsampled series only
		}
		if err := linkTree(filepath.Join(policyDir, e.Name()), filepath.Join(rawDir, e.Name())); err != nil {
			return err
		}
	}
	db, err := tsdb.Open(rawDir, quiet, nil, promstoreOptions(keep), nil)
	if err != nil {
		return fmt.Errorf("open %s: %w", rawDir, err)
	}
	err = db.Delete(ctx, math.MinInt64, math.MaxInt64, labels.MustNewMatcher(labels.MatchRegexp, model.MetricNameLabel, ".+:.+"))
	if err == nil {
		err = db.CleanTombstones()
	}
	return errors.Join(err, db.Close())
}

// linkTree hard-links the files of src into dst, directories created.
func linkTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o750)
		}
		return os.Link(path, filepath.Join(dst, rel))
	})
}
