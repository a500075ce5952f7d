package audit

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

const (
	helperDirEnv = "PULSE_AUDIT_HELPER_DIR"
	helperNEnv   = "PULSE_AUDIT_HELPER_N"
)

// TestHelperProcess is the second process of TestTwoProcesses: it appends
// n records to the directory it is given and exits.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperDirEnv)
	if dir == "" {
		t.Skip("helper process for TestTwoProcesses")
	}
	n, _ := strconv.Atoi(os.Getenv(helperNEnv))
	l, err := Open(dir, Options{MaxFileBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	for i := range n {
		if _, err := l.Append(context.Background(), Entry{Action: ActionRulesSync, Actor: "pulsectl", Object: fmt.Sprintf("helper-%d-%d", os.Getpid(), i)}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTwoProcesses appends from this process (two goroutines, two Logs)
// and two child processes at once: the result is one valid chain holding
// every record once, across rotated files.
func TestTwoProcesses(t *testing.T) {
	const n = 60
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var cmds []*exec.Cmd
	for range 2 {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperDirEnv+"="+dir, helperNEnv+"="+strconv.Itoa(n))
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	var wg sync.WaitGroup
	for g := range 2 {
		l, err := Open(dir, Options{MaxFileBytes: 4096})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			defer func() { _ = l.Close() }()
			for i := range n {
				if _, err := l.Append(ctx, Entry{Action: ActionForget, Actor: "admin-token", Object: fmt.Sprintf("parent-%d-%d", g, i)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper process %d: %v", cmd.Process.Pid, err)
		}
	}
	res, err := Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 4*n || res.Files < 2 {
		t.Fatalf("want %d records in rotated files, got %+v", 4*n, res)
	}
	seen := map[string]bool{}
	if err := Read(dir, time.Time{}, func(r Record) error {
		if seen[r.Object] {
			return fmt.Errorf("object %s recorded twice", r.Object)
		}
		seen[r.Object] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 4*n {
		t.Fatalf("distinct records: %d", len(seen))
	}
}
