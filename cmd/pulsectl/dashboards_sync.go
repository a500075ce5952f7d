package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pulse-otel/pulse/internal/audit"
	"github.com/pulse-otel/pulse/internal/dashboards"
	"github.com/pulse-otel/pulse/internal/grafanasync"
)

// tokenEnv is read when --token is not given, so the token need not be on
// the command line (where ps shows it).
const tokenEnv = "PULSE_GRAFANA_TOKEN"

type dashboardsSyncOpts struct {
	url, token, folder, users string
	dryRun                    bool
	timeout                   time.Duration
	auditDir                  string
}

func newDashboardsSyncFlags(w io.Writer) (*flag.FlagSet, *dashboardsSyncOpts) {
	o := &dashboardsSyncOpts{}
	fs := flag.NewFlagSet("pulsectl dashboards sync", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.StringVar(&o.url, "grafana-url", "", "base URL of Grafana, e.g. http://localhost:3000")
	fs.StringVar(&o.token, "token", "", "Grafana service account token with the organization's Admin role (default $"+tokenEnv+")")
	fs.StringVar(&o.folder, "folder", dashboards.Folder, "title of the Grafana folder the dashboards go to (its uid is derived from it)")
	fs.StringVar(&o.users, "users", "", "YAML file mapping seed user ids to Grafana users or teams ({user: LOGIN_OR_EMAIL} or {team: NAME}); without it permissions are left alone")
	fs.BoolVar(&o.dryRun, "dry-run", false, "read Grafana and print what would change, writing nothing")
	fs.DurationVar(&o.timeout, "timeout", grafanasync.DefaultTimeout, "timeout of each HTTP request")
	fs.StringVar(&o.auditDir, "audit-dir", auditDirDefault(), "audit log directory the sync is recorded in (a --dry-run is not recorded)")
	return fs, o
}

func syncDashboards(args []string, stdout, stderr io.Writer) error {
	fs, o := newDashboardsSyncFlags(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return dashboardsUsageError("sync: " + err.Error())
	}
	if o.token == "" {
		o.token = os.Getenv(tokenEnv)
	}
	switch {
	case o.url == "":
		return dashboardsUsageError("sync: --grafana-url URL is required")
	case o.token == "":
		return dashboardsUsageError("sync: --token TOKEN (or $" + tokenEnv + ") is required")
	case o.timeout <= 0:
		return dashboardsUsageError("sync: --timeout must be positive")
	case fs.NArg() == 0:
		return dashboardsUsageError("sync: give DIR, the output of pulsectl dashboards compile --out DIR (or definition FILES)")
	}
	dbs, err := syncInput(fs.Args())
	if err != nil {
		return fmt.Errorf("dashboards sync: %w", err)
	}
	var users *grafanasync.Users
	if o.users != "" {
		if users, err = grafanasync.ReadUsers(o.users); err != nil {
			return fmt.Errorf("dashboards sync: %w", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := grafanasync.Sync(ctx, grafanasync.Options{
		URL: o.url, Token: o.token, Folder: o.folder, Users: users, DryRun: o.dryRun,
		Client: &http.Client{Timeout: o.timeout},
	}, dbs)
	printSyncResult(stdout, res)
	if !o.dryRun && (err == nil || res.Wrote()) {
		// A failed run that wrote part of its changes is recorded too.
		if aerr := recordDashboardsSync(o, dbs, res, err); aerr != nil {
			return errors.Join(fmt.Errorf("dashboards sync: %w", aerr), err)
		}
	}
	if err != nil {
		return fmt.Errorf("dashboards sync: %w", err)
	}
	where := "grafana"
	if u, perr := url.Parse(o.url); perr == nil {
		where += " " + u.Redacted()
	}
	fmt.Fprintf(stdout, "%s folder %s: %s\n", where, res.FolderUID, res.Summary())
	if !res.Wrote() {
		fmt.Fprintln(stdout, "nothing written: Grafana already matches "+strings.Join(fs.Args(), " "))
	}
	return nil
}

// recordDashboardsSync appends a dashboards.sync record: the Grafana URL
// without credentials, the folder, the dashboards, a hash over their
// content hashes and what changed.
func recordDashboardsSync(o *dashboardsSyncOpts, dbs []grafanasync.Dashboard, res grafanasync.Result, syncErr error) error {
	uids := make([]string, 0, len(dbs))
	hashes := make([]string, 0, len(dbs))
	for _, d := range dbs {
		uids = append(uids, d.UID)
		hashes = append(hashes, d.UID+"="+d.Hash)
	}
	sort.Strings(hashes)
	outcome := "ok"
	if syncErr != nil {
		outcome = "partial"
	}
	return recordSync(o.auditDir, audit.Entry{
		Action: audit.ActionDashboardsSync, Actor: auditActor, Source: auditActor, Object: auditTarget(o.url),
		Details: map[string]string{
			"folder": res.FolderUID, "dashboards": joinNames(uids), "content_sha256": contentHash([]byte(strings.Join(hashes, "\n"))),
			"created": joinNames(res.Created), "updated": joinNames(res.Updated), "deleted": joinNames(res.Deleted),
			"permissions_set": joinNames(res.PermissionsSet), "outcome": outcome,
		},
	})
}

// syncInput reads a compile's output directory, or compiles definition
// files and directories in memory (with the default provisioning options,
// which the dashboards do not depend on).
func syncInput(args []string) ([]grafanasync.Dashboard, error) {
	if len(args) == 1 {
		if _, err := os.Stat(filepath.Join(args[0], dashboards.MetaFile)); err == nil {
			return grafanasync.ReadDir(args[0])
		}
	}
	defs, err := dashboards.Load(args...)
	if err != nil {
		return nil, err
	}
	files, err := dashboards.CompileAll(defs, dashboards.ProvisioningOptions{})
	if err != nil {
		return nil, err
	}
	return grafanasync.FromFiles(files)
}

// printSyncResult prints one line per change, also for the part of a sync
// that was done before an error.
func printSyncResult(w io.Writer, r grafanasync.Result) {
	verb := func(s string) string {
		if r.DryRun {
			return "would be " + s
		}
		return s
	}
	if r.FolderCreated {
		fmt.Fprintf(w, "folder %s (uid %s): %s\n", r.FolderTitle, r.FolderUID, verb("created"))
	}
	if r.FolderPermissionSet {
		fmt.Fprintf(w, "folder %s (uid %s): permissions %s\n", r.FolderTitle, r.FolderUID, verb("set"))
	}
	for _, l := range []struct {
		what string
		uids []string
	}{{"created", r.Created}, {"updated", r.Updated}, {"deleted", r.Deleted}, {"permissions set", r.PermissionsSet}} {
		for _, uid := range l.uids {
			fmt.Fprintf(w, "dashboard %s: %s\n", uid, verb(l.what))
		}
	}
}
