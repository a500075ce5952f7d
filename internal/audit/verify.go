package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// VerifyResult describes a log that Verify walked.
type VerifyResult struct {
	Files    int       // log files read
	Records  uint64    // valid records before the first problem (all of them when valid)
	FirstSeq uint64    // seq of the first record, 0 when empty
	Head     Record    // the last valid record: anchor its Seq and Hash
	Since    time.Time // time of the first record
}

// VerifyError names the first bad record of a log.
type VerifyError struct {
	File    string // file name inside the log directory
	Line    int    // 1-based line in File; 0 for a problem with the file itself
	Seq     uint64 // seq of the bad record, or the seq expected there
	Problem string // one of the Problem constants
	Err     error  // details
}

func (e *VerifyError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Err != nil {
		return fmt.Sprintf("audit: %s: record seq %d: %s: %v", loc, e.Seq, e.Problem, e.Err)
	}
	return fmt.Sprintf("audit: %s: record seq %d: %s", loc, e.Seq, e.Problem)
}

func (e *VerifyError) Unwrap() error { return e.Err }

// Verify walks every file of the log in dir and checks each record: canonical
// form, its hash, the link to the previous record and the seq. It returns
// what it walked and, for a broken log, a *VerifyError naming the first bad
// record. An empty or missing directory is an empty, valid log.
func Verify(dir string) (VerifyResult, error) {
	var res VerifyResult
	var prev *Record
	err := walk(dir, func(file string, line int, r Record) error {
		switch {
		case prev == nil && r.Seq != 1 && r.Prev == "":
			return &VerifyError{File: file, Line: line, Seq: r.Seq, Problem: ProblemSeqGap, Err: fmt.Errorf("the first record has seq %d, not 1", r.Seq)}
		case prev == nil && r.Seq != 1:
			return &VerifyError{File: file, Line: line, Seq: r.Seq, Problem: ProblemMissingFile, Err: fmt.Errorf("records 1 to %d are missing", r.Seq-1)}
		case prev == nil && r.Prev != "":
			return &VerifyError{File: file, Line: line, Seq: r.Seq, Problem: ProblemBrokenLink, Err: errors.New("the first record links to a previous one")}
		case prev != nil && r.Seq != prev.Seq+1:
			return &VerifyError{File: file, Line: line, Seq: r.Seq, Problem: ProblemSeqGap, Err: fmt.Errorf("expected seq %d", prev.Seq+1)}
		case prev != nil && r.Prev != prev.Hash:
			return &VerifyError{File: file, Line: line, Seq: r.Seq, Problem: ProblemBrokenLink, Err: fmt.Errorf("prev does not match the hash of seq %d", prev.Seq)}
		}
		if prev == nil {
			res.FirstSeq, res.Since = r.Seq, r.Time
		}
		res.Records++
		res.Head = r
		prev = &res.Head
		return nil
	}, func(n int) { res.Files = n }, func() uint64 {
		if prev == nil {
			return 1
		}
		return prev.Seq + 1
	})
	return res, err
}

// Read calls fn for every record with a time at or after since, in seq
// order. It checks each line as Verify does except the links between
// records; run Verify for those. fn's error stops the walk and is returned.
func Read(dir string, since time.Time, fn func(Record) error) error {
	var last uint64
	return walk(dir, func(_ string, _ int, r Record) error {
		last = r.Seq
		if r.Time.Before(since) {
			return nil
		}
		return fn(r)
	}, nil, func() uint64 { return last + 1 })
}

// walk decodes every line of every file in dir under a shared lock. next
// gives the seq expected at the current position, for error messages about
// lines that cannot be decoded.
func walk(dir string, fn func(file string, line int, r Record) error, files func(int), next func() uint64) error {
	fs, err := listFiles(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if files != nil {
		files(len(fs))
	}
	if len(fs) == 0 {
		return nil
	}
	if lf, err := os.Open(filepath.Join(dir, lockName)); err == nil {
		// No lock file means no appender has ever run; read without one.
		defer func() { _ = lf.Close() }()
		if err := flock(lf, syscall.LOCK_SH); err != nil {
			return fmt.Errorf("audit: lock: %w", err)
		}
		defer func() { _ = syscall.Flock(int(lf.Fd()), syscall.LOCK_UN) }()
	}
	for i, f := range fs {
		if f.firstSeq != next() {
			if f.firstSeq > next() {
				return &VerifyError{File: f.name, Seq: next(), Problem: ProblemMissingFile, Err: fmt.Errorf("records %d to %d are missing", next(), f.firstSeq-1)}
			}
			return &VerifyError{File: f.name, Seq: f.firstSeq, Problem: ProblemFileName, Err: fmt.Errorf("expected seq %d", next())}
		}
		n, err := walkFile(dir, f, fn, next)
		if err != nil {
			return err
		}
		if n == 0 && i < len(fs)-1 {
			return &VerifyError{File: f.name, Seq: f.firstSeq, Problem: ProblemEmptyFile}
		}
	}
	return nil
}

// walkFile decodes the lines of one file and returns how many it read.
func walkFile(dir string, f logFile, fn func(file string, line int, r Record) error, next func() uint64) (int, error) {
	fh, err := os.Open(filepath.Join(dir, f.name))
	if err != nil {
		return 0, fmt.Errorf("audit: open %s: %w", f.name, err)
	}
	defer func() { _ = fh.Close() }()
	br := bufio.NewReaderSize(fh, 64<<10)
	line := 0
	for {
		b, err := readLine(br)
		if errors.Is(err, io.EOF) {
			return line, nil
		}
		line++
		if errors.Is(err, errTruncated) {
			return line, &VerifyError{File: f.name, Line: line, Seq: next(), Problem: ProblemTruncated, Err: errors.New("the last line has no newline")}
		}
		if errors.Is(err, errTooLong) {
			return line, &VerifyError{File: f.name, Line: line, Seq: next(), Problem: ProblemMalformed, Err: err}
		}
		if err != nil {
			return line, fmt.Errorf("audit: read %s: %w", f.name, err)
		}
		r, problem, err := decodeLine(b)
		if err != nil {
			return line, &VerifyError{File: f.name, Line: line, Seq: next(), Problem: problem, Err: err}
		}
		if line == 1 && r.Seq != f.firstSeq {
			return line, &VerifyError{File: f.name, Line: line, Seq: r.Seq, Problem: ProblemFileName, Err: fmt.Errorf("the file name states seq %d", f.firstSeq)}
		}
		if err := fn(f.name, line, r); err != nil {
			return line, err
		}
	}
}

var (
	errTruncated = errors.New("truncated line")
	errTooLong   = fmt.Errorf("line longer than %d bytes", MaxRecordBytes)
)

// readLine returns the next line without its newline.
func readLine(br *bufio.Reader) ([]byte, error) {
	var acc []byte
	for {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			acc = append(acc, b...)
			if len(acc) > MaxRecordBytes {
				return nil, errTooLong
			}
			continue
		}
		if errors.Is(err, io.EOF) {
			if len(acc)+len(b) == 0 {
				return nil, io.EOF
			}
			return nil, errTruncated
		}
		if err != nil {
			return nil, err
		}
		if acc != nil {
			b = append(acc, b...)
		}
		if len(b)-1 > MaxRecordBytes {
			return nil, errTooLong
		}
		return bytes.Clone(b[:len(b)-1]), nil
	}
}
