package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// DefaultMaxFileBytes is the size at which a file is rotated by default.
const DefaultMaxFileBytes = 16 << 20

// Options tune a Log.
type Options struct {
	// MaxFileBytes rotates to a new file when the next record would make the
	// current one larger. 0 means DefaultMaxFileBytes.
	MaxFileBytes int64
	// Now is the clock; nil means time.Now. Tests set it.
	Now func() time.Time
}

// Appender records entries; *Log and the audit extension implement it.
type Appender interface {
	Append(ctx context.Context, e Entry) (Record, error)
}

// Log appends records to a log directory. It is safe for concurrent use, and
// other processes may append to the same directory at the same time.
type Log struct {
	dir  string
	opts Options

	mu   sync.Mutex
	lock *os.File // dir/audit.lock, flocked around every append
	// The tail as this Log last saw it; another process's append changes
	// the current file's size, and then the tail is read again.
	tail tail
}

// tail is where the next record goes and what it links to.
type tail struct {
	file    string // current file name, "" when the log is empty
	size    int64  // its size when last seen
	lastSeq uint64
	last    string // hash of the last record
}

// Open opens (creating it if needed) the log in dir.
func Open(dir string, opts Options) (*Log, error) {
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = DefaultMaxFileBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("audit: create directory: %w", err)
	}
	lf, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("audit: open lock file: %w", err)
	}
	return &Log{dir: dir, opts: opts, lock: lf}, nil
}

// Dir is the directory of the log.
func (l *Log) Dir() string { return l.dir }

// Close releases the lock file. Appends after Close fail.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lock == nil {
		return nil
	}
	err := l.lock.Close()
	l.lock = nil
	return err
}

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("audit: log is closed")

// Append stores e as the next record and returns it once it is on disk.
func (l *Log) Append(ctx context.Context, e Entry) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	if err := e.validate(); err != nil {
		return Record{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lock == nil {
		return Record{}, ErrClosed
	}
	if err := flock(l.lock, syscall.LOCK_EX); err != nil {
		return Record{}, fmt.Errorf("audit: lock: %w", err)
	}
	defer func() { _ = syscall.Flock(int(l.lock.Fd()), syscall.LOCK_UN) }()

	if err := l.refreshTail(); err != nil {
		return Record{}, err
	}
	r := Record{Seq: l.tail.lastSeq + 1, Time: l.opts.Now().UTC().Truncate(time.Microsecond), Entry: e, Prev: l.tail.last}
	r.Details = copyDetails(e.Details)
	line, err := seal(&r)
	if err != nil {
		return Record{}, err
	}
	if len(line) > MaxRecordBytes {
		return Record{}, fmt.Errorf("audit: record of %d bytes exceeds %d", len(line), MaxRecordBytes)
	}
	name := l.tail.file
	newFile := name == "" || (l.tail.size > 0 && l.tail.size+int64(len(line)) > l.opts.MaxFileBytes)
	if newFile {
		name = fileName(r.Seq)
	}
	f, err := os.OpenFile(filepath.Join(l.dir, name), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return Record{}, fmt.Errorf("audit: open %s: %w", name, err)
	}
	n, werr := f.Write(line)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil && newFile {
		werr = syncDir(l.dir)
	}
	if werr != nil {
		// Force a re-read: a partial line is cut off by the next append.
		l.tail = tail{}
		return Record{}, fmt.Errorf("audit: write %s: %w", name, werr)
	}
	size := int64(n)
	if !newFile {
		size += l.tail.size
	}
	l.tail = tail{file: name, size: size, lastSeq: r.Seq, last: r.Hash}
	return r, nil
}

func copyDetails(d map[string]string) map[string]string {
	if len(d) == 0 {
		return nil
	}
	c := make(map[string]string, len(d))
	for k, v := range d {
		c[k] = v
	}
	return c
}

// flock retries on EINTR.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// refreshTail brings l.tail up to date with the directory; the caller holds
// the exclusive lock. Cheap when nobody else appended: one ReadDir and stat.
func (l *Log) refreshTail() error {
	fs, err := listFiles(l.dir)
	if err != nil {
		return err
	}
	if len(fs) == 0 {
		l.tail = tail{}
		return nil
	}
	cur := fs[len(fs)-1]
	path := filepath.Join(l.dir, cur.name)
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("audit: stat %s: %w", cur.name, err)
	}
	if cur.name == l.tail.file && st.Size() == l.tail.size {
		return nil
	}
	t, err := readTail(path, cur, st.Size())
	if err != nil {
		return err
	}
	if t.lastSeq == 0 && len(fs) > 1 {
		// The current file is empty (a crash right after rotation): the
		// chain continues from the previous file's last record.
		prev := fs[len(fs)-2]
		pp := filepath.Join(l.dir, prev.name)
		pst, err := os.Stat(pp)
		if err != nil {
			return fmt.Errorf("audit: stat %s: %w", prev.name, err)
		}
		pt, err := readTail(pp, prev, pst.Size())
		if err != nil {
			return err
		}
		t.lastSeq, t.last = pt.lastSeq, pt.last
	}
	l.tail = t
	return nil
}

// readTail reads the last complete record of the file at path and cuts off
// an unterminated last line (a write that was never acknowledged).
func readTail(path string, lf logFile, size int64) (tail, error) {
	t := tail{file: lf.name}
	if size == 0 {
		return t, nil
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return tail{}, fmt.Errorf("audit: open %s: %w", lf.name, err)
	}
	defer func() { _ = f.Close() }()
	// A complete record and the partial line after it fit in this window.
	win := int64(2*MaxRecordBytes + 2)
	off := max(size-win, 0)
	buf := make([]byte, size-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return tail{}, fmt.Errorf("audit: read %s: %w", lf.name, err)
	}
	end := len(buf)
	if buf[end-1] != '\n' {
		cut := bytes.LastIndexByte(buf, '\n') + 1 // 0 when there is no newline
		if err := f.Truncate(off + int64(cut)); err != nil {
			return tail{}, fmt.Errorf("audit: cut the truncated line of %s: %w", lf.name, err)
		}
		if err := f.Sync(); err != nil {
			return tail{}, fmt.Errorf("audit: sync %s: %w", lf.name, err)
		}
		end = cut
	}
	t.size = off + int64(end)
	if end == 0 {
		return t, nil
	}
	start := bytes.LastIndexByte(buf[:end-1], '\n') + 1
	if start == 0 && off > 0 {
		return tail{}, fmt.Errorf("audit: last line of %s is longer than %d bytes", lf.name, MaxRecordBytes)
	}
	r, problem, err := decodeLine(buf[start : end-1])
	if err != nil {
		return tail{}, fmt.Errorf("audit: last record of %s: %s: %w (run pulsectl audit verify)", lf.name, problem, err)
	}
	t.lastSeq, t.last = r.Seq, r.Hash
	return t, nil
}
