package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

const (
	filePrefix = "audit-"
	fileSuffix = ".jsonl"
	lockName   = "audit.lock"
)

// logFile is one file of a log: its name and the seq its name states.
type logFile struct {
	name     string
	firstSeq uint64
}

// fileName is the name of the file whose first record has seq.
func fileName(firstSeq uint64) string {
	return fmt.Sprintf("%s%012d%s", filePrefix, firstSeq, fileSuffix)
}

// listFiles returns the log files of dir sorted by their first seq. Other
// names (the lock file, an operator's notes) are ignored.
func listFiles(dir string) ([]logFile, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("audit: read directory: %w", err)
	}
	var fs []logFile
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !strings.HasPrefix(n, filePrefix) || !strings.HasSuffix(n, fileSuffix) {
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(n, filePrefix), fileSuffix), 10, 64)
		if err != nil || seq == 0 {
			continue
		}
		fs = append(fs, logFile{name: n, firstSeq: seq})
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].firstSeq < fs[j].firstSeq })
	return fs, nil
}

// syncDir fsyncs a directory so a new file's entry survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(filepath.Clean(dir))
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	return d.Sync()
}
