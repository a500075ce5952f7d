package promstoreexporter // import "github.com/pulse-otel/pulse/exporter/promstoreexporter"

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// journalFile is the retention journal in promstore's directory.
const journalFile = "retention-journal.json"

// journal is the state of the last retention execution, written before
// the first deletion, after each rule and at the end: a restart that
// finds an execution started and not finished runs it again, with the
// same cutoffs, from the first rule not done.
type journal struct {
	// Execution identifies one execution: its start, RFC 3339 in UTC.
	Execution string `json:"execution"`
	// Version is the plan version the execution enforces.
	Version string `json:"version"`
	// Now is the time the cutoffs are computed from (ms since 1970).
	Now int64 `json:"now"`
	// Done are the rules finished, as "policyId/index".
	Done []string `json:"done"`
	// Finished is when the execution ended (ms since 1970); 0 while it
	// runs or when it was interrupted.
	Finished int64 `json:"finished,omitempty"`
	// Resumed counts the restarts that continued this execution.
	Resumed int `json:"resumed,omitempty"`
}

func (j *journal) started() time.Time { return time.UnixMilli(j.Now) }

func (j *journal) finished() bool { return j.Finished != 0 }

// readJournal returns the journal in dir, or nil when there is none.
func readJournal(dir string) (*journal, error) {
	b, err := os.ReadFile(filepath.Join(dir, journalFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("retention journal: %w", err)
	}
	var j journal
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("retention journal %s: not a journal: %w", filepath.Join(dir, journalFile), err)
	}
	return &j, nil
}

// write replaces the journal in dir atomically: written aside, synced,
// renamed, directory synced. A crash leaves the old or the new one.
func (j *journal) write(dir string) error {
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, journalFile)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("retention journal: %w", err)
	}
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("retention journal: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("retention journal: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("retention journal: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("retention journal: sync %s: %w", dir, err)
	}
	return nil
}
