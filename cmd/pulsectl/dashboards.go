package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pulse-otel/pulse/internal/dashboards"
)

const dashboardsUsage = `usage:
  pulsectl dashboards validate FILES...
      Check dashboard definitions (files or directories of .yaml, .yml, .json
      in the seed's dashboardConfigs shape; see docs/dashboards.md).
  pulsectl dashboards compile --out DIR [flags] FILES...
      Write DIR/dashboards/<dashboardId>.json (Grafana dashboards),
      DIR/provisioning/dashboards/pulse.yaml, DIR/provisioning/datasources/pulse.yaml,
      DIR/pulse-dashboards.yaml (theme and permissions, which Grafana
      dashboards have no field for) and DIR/rules/recording.yaml (recording
      rules for the KPIs the panels read and the daily summary, for promstore's
      or a ruler's rule files). Files no longer defined are removed from
      DIR/dashboards.
  pulsectl dashboards sync --grafana-url URL --token TOKEN [--folder NAME] [--users FILE] [--dry-run] DIR
      Put a compile's DIR (or definition FILES, compiled in memory) into Grafana
      through its HTTP API; see pulsectl dashboards sync -h and docs/dashboards.md.

compile flags:
`

type dashboardsOpts struct {
	out  string
	prov dashboards.ProvisioningOptions
}

func newDashboardsFlags(w io.Writer) (*flag.FlagSet, *dashboardsOpts) {
	o := &dashboardsOpts{}
	fs := flag.NewFlagSet("pulsectl dashboards compile", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.StringVar(&o.out, "out", "", "output directory (created if missing)")
	fs.StringVar(&o.prov.QueryURL, "datasource-url", dashboards.DefaultQueryURL, "URL of the Prometheus query API Grafana reads (promstore's endpoint)")
	fs.StringVar(&o.prov.DashboardsPath, "grafana-path", dashboards.DefaultGrafanaPath, "where Grafana sees DIR/dashboards (the provider's path)")
	return fs, o
}

func dashboardsCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return dashboardsUsageError("missing dashboards subcommand (validate, compile, sync)")
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, dashboardsUsage)
		fs, _ := newDashboardsFlags(stdout)
		fs.PrintDefaults()
		return nil
	case "validate":
		return validateDashboards(args[1:], stdout)
	case "compile":
		return compileDashboards(args[1:], stdout, stderr)
	case "sync":
		return syncDashboards(args[1:], stdout, stderr)
	}
	return dashboardsUsageError(fmt.Sprintf("unknown dashboards subcommand %q", args[0]))
}

// dashboardsUsageError is a usage error that points at the dashboards help.
func dashboardsUsageError(msg string) error {
	return usageError{"dashboards: " + msg + " (see pulsectl dashboards help)"}
}

func validateDashboards(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return dashboardsUsageError("validate: no FILES given")
	}
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			return dashboardsUsageError("validate: unknown flag " + a)
		}
	}
	dbs, err := dashboards.Load(args...)
	if err != nil {
		return err
	}
	// Compiling also lints the output.
	if _, err := dashboards.CompileAll(dbs, dashboards.ProvisioningOptions{}); err != nil {
		return err
	}
	panels := 0
	for _, db := range dbs {
		panels += len(db.Layout.Widgets)
	}
	fmt.Fprintf(stdout, "%d dashboards valid (%d panels)\n", len(dbs), panels)
	return nil
}

func compileDashboards(args []string, stdout, stderr io.Writer) error {
	fs, o := newDashboardsFlags(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return dashboardsUsageError("compile: " + err.Error())
	}
	if o.out == "" {
		return dashboardsUsageError("compile: --out DIR is required")
	}
	if fs.NArg() == 0 {
		return dashboardsUsageError("compile: no FILES given")
	}
	dbs, err := dashboards.Load(fs.Args()...)
	if err != nil {
		return err
	}
	files, err := dashboards.CompileAll(dbs, o.prov)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(o.out, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[n], 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", p)
	}
	return removeStale(filepath.Join(o.out, dashboards.DashboardsDir), files, stdout)
}

// removeStale deletes the .json files of dir that this compile did not
// write: Grafana's file provider then removes their dashboards.
func removeStale(dir string, files map[string][]byte, stdout io.Writer) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".json" {
			continue
		}
		if _, ok := files[dashboards.DashboardsDir+"/"+e.Name()]; ok {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.Remove(p); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "removed %s\n", p)
	}
	return nil
}
