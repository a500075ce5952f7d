package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/pulse-otel/pulse/internal/audit"
)

// Audit trail: pulsectl audit verify|show, and the records rules sync and
// dashboards sync append to the same directory as the collector's audit
// extension (internal/audit; docs/audit.md).

// auditDirEnv overrides the default of --audit-dir.
const auditDirEnv = "PULSE_AUDIT_DIR"

// defaultAuditDir is where config/pulse.yaml's audit extension writes.
const defaultAuditDir = "./data/audit"

// auditActor is who pulsectl's records name: the tool, never the OS user.
const auditActor = "pulsectl"

const auditUsage = `usage:
  pulsectl audit verify [--audit-dir DIR]
      Check the audit log's hash chain. Exit 0 when it is valid (prints the
      head: seq and hash of the last record, to anchor elsewhere), 1 when
      it is broken (names the file, line and seq of the first bad record).
  pulsectl audit show [--since 24h] [--format text|json] [--audit-dir DIR]
      Print the records of the last --since (a duration, or an RFC 3339
      time), oldest first, then the head.
  --audit-dir defaults to $` + auditDirEnv + `, else ` + defaultAuditDir + `.
  rules sync and dashboards sync append their runs to the same directory.
`

func auditDirDefault() string {
	if d := os.Getenv(auditDirEnv); d != "" {
		return d
	}
	return defaultAuditDir
}

func auditUsageError(msg string) error { return usageError{"audit " + msg + "\n\n" + auditUsage} }

func auditCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return auditUsageError("needs a subcommand (verify, show)")
	}
	switch args[0] {
	case "verify":
		return auditVerify(args[1:], stdout, stderr)
	case "show":
		return auditShow(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, auditUsage)
		return nil
	}
	return auditUsageError(fmt.Sprintf("has no subcommand %q", args[0]))
}

func auditVerify(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pulsectl audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("audit-dir", auditDirDefault(), "audit log directory")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return auditUsageError("verify: " + err.Error())
	}
	if fs.NArg() > 0 {
		return auditUsageError("verify: takes no arguments")
	}
	if err := requireDir(*dir); err != nil {
		return err
	}
	res, err := audit.Verify(*dir)
	if err != nil {
		var ve *audit.VerifyError
		if errors.As(err, &ve) {
			fmt.Fprintf(stdout, "BROKEN: %s\n", ve.Error())
			fmt.Fprintf(stdout, "valid before it: %d records", res.Records)
			if res.Records > 0 {
				fmt.Fprintf(stdout, ", up to seq %d (hash %s)", res.Head.Seq, res.Head.Hash)
			}
			fmt.Fprintln(stdout)
		}
		return fmt.Errorf("audit verify: %s: %w", *dir, err)
	}
	if res.Records == 0 {
		fmt.Fprintf(stdout, "OK: %s is empty\n", *dir)
		return nil
	}
	fmt.Fprintf(stdout, "OK: %d records in %d files, seq %d to %d, %s to %s\n", res.Records, res.Files,
		res.FirstSeq, res.Head.Seq, res.Since.Format(time.RFC3339), res.Head.Time.Format(time.RFC3339))
	printHead(stdout, res.Head)
	return nil
}

func printHead(w io.Writer, r audit.Record) {
	fmt.Fprintf(w, "head: seq %d hash %s\n", r.Seq, r.Hash)
}

// requireDir refuses a directory that does not exist: a mistyped
// --audit-dir would otherwise verify as an empty, valid log.
func requireDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("audit: --audit-dir %s: %w", dir, errors.Unwrap(err))
	}
	if !st.IsDir() {
		return fmt.Errorf("audit: --audit-dir %s: not a directory", dir)
	}
	return nil
}

func auditShow(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pulsectl audit show", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("audit-dir", auditDirDefault(), "audit log directory")
	sinceFlag := fs.String("since", "24h", "how far back: a duration (24h, 90m) or an RFC 3339 time")
	format := fs.String("format", "text", "text or json (one record per line, as stored)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return auditUsageError("show: " + err.Error())
	}
	if fs.NArg() > 0 {
		return auditUsageError("show: takes no arguments")
	}
	since, err := parseSince(*sinceFlag, time.Now())
	if err != nil {
		return auditUsageError("show: --since: " + err.Error())
	}
	if *format != "text" && *format != "json" {
		return auditUsageError(fmt.Sprintf("show: --format must be text or json, got %q", *format))
	}
	if err := requireDir(*dir); err != nil {
		return err
	}
	n := 0
	var head audit.Record
	err = audit.Read(*dir, time.Time{}, func(r audit.Record) error {
		head = r
		if r.Time.Before(since) {
			return nil
		}
		n++
		if *format == "json" {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(stdout, "%s\n", b)
			return err
		}
		_, err := fmt.Fprintln(stdout, formatRecord(r))
		return err
	})
	if err != nil {
		return fmt.Errorf("audit show: %s: %w (run pulsectl audit verify)", *dir, err)
	}
	if *format == "text" {
		fmt.Fprintf(stdout, "%d records since %s\n", n, since.UTC().Format(time.RFC3339))
		if head.Seq > 0 {
			printHead(stdout, head)
		}
	}
	return nil
}

// parseSince reads a duration back from now, or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("must not be negative, got %s", s)
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("must be a duration (24h) or an RFC 3339 time, got %q", s)
	}
	return t, nil
}

// formatRecord is one line: seq, time, action, actor, source, object,
// details sorted by key.
func formatRecord(r audit.Record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%6d  %s  %-17s actor=%s", r.Seq, r.Time.Format(time.RFC3339), r.Action, r.Actor)
	if r.Source != "" {
		fmt.Fprintf(&b, " source=%s", r.Source)
	}
	if r.Object != "" {
		fmt.Fprintf(&b, " object=%s", r.Object)
	}
	keys := make([]string, 0, len(r.Details))
	for k := range r.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := r.Details[k]
		if v == "" || strings.ContainsAny(v, " \t\"=") {
			v = fmt.Sprintf("%q", v)
		}
		fmt.Fprintf(&b, " %s=%s", k, v)
	}
	return b.String()
}

// recordSync appends a sync run to the audit log in dir. The sync already
// happened: a failure to record it is reported as an error (exit 1) so it
// is not lost silently.
func recordSync(dir string, e audit.Entry) error {
	l, err := audit.Open(dir, audit.Options{})
	if err != nil {
		return fmt.Errorf("the sync was done but not recorded in the audit log: %w", err)
	}
	defer func() { _ = l.Close() }()
	if _, err := l.Append(context.Background(), e); err != nil {
		return fmt.Errorf("the sync was done but not recorded in the audit log: %w", err)
	}
	return nil
}

// auditTarget is a URL as the audit log may hold it: no user info, no
// query (either may carry a credential), no fragment.
func auditTarget(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "unparsable-url"
	}
	u.User, u.RawQuery, u.Fragment, u.RawFragment, u.ForceQuery = nil, "", "", "", false
	return u.String()
}

// contentHash is the hex sha256 of b.
func contentHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// joinNames lists names sorted, comma-separated, cut to stay well inside
// one record's size limit.
func joinNames(names []string) string {
	s := append([]string(nil), names...)
	sort.Strings(s)
	out := strings.Join(s, ",")
	const maxLen = 8 << 10
	if len(out) > maxLen {
		out = out[:maxLen] + fmt.Sprintf("…(%d names)", len(s))
	}
	return out
}
