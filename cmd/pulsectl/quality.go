package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/prometheus/common/model"

	"github.com/pulse-otel/pulse/internal/quality"
)

const qualityUsage = `usage:
  pulsectl quality report [--since 24h] [--until T] [--url http://localhost:9090]
                          [--format json|markdown] [--timeout 30s]
      Write the data-quality report of every data source (receiver endpoint
      and platform) over the period from the store's counters: completeness,
      accuracy, consistency, timeliness, a quality score, issues and
      recommendations (see docs/quality.md). --since and --until take a
      duration before now (24h, 90m) or an RFC 3339 time; --until defaults
      to now.
`

func qualityCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return qualityUsageError("missing quality subcommand (report)")
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, qualityUsage)
		return nil
	case "report":
		return qualityReport(args[1:], stdout, stderr, time.Now())
	}
	return qualityUsageError(fmt.Sprintf("unknown quality subcommand %q", args[0]))
}

func qualityUsageError(msg string) error {
	return usageError{"quality: " + msg + " (see pulsectl quality help)"}
}

func qualityReport(args []string, stdout, stderr io.Writer, now time.Time) error {
	fs := flag.NewFlagSet("pulsectl quality report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	since := fs.String("since", "24h", "start of the period: a duration before now or an RFC 3339 time")
	until := fs.String("until", "", "end of the period: a duration before now or an RFC 3339 time (default now)")
	url := fs.String("url", "http://localhost:9090", "Prometheus-compatible query API of the store")
	format := fs.String("format", "json", "json or markdown")
	timeout := fs.Duration("timeout", 30*time.Second, "time limit of the whole report")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return qualityUsageError("report: " + err.Error())
	}
	if fs.NArg() > 0 {
		return qualityUsageError("report: takes no arguments")
	}
	if *format != "json" && *format != "markdown" {
		return qualityUsageError(fmt.Sprintf("report: --format must be json or markdown, got %q", *format))
	}
	end := now
	if *until != "" {
		t, err := parseWhen(*until, now)
		if err != nil {
			return qualityUsageError("report: --until: " + err.Error())
		}
		end = t
	}
	start, err := parseWhen(*since, end)
	if err != nil {
		return qualityUsageError("report: --since: " + err.Error())
	}
	c, err := quality.NewClient(*url, nil)
	if err != nil {
		return qualityUsageError("report: --url: " + err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	reports, err := quality.Generate(ctx, c, quality.Period{Start: start, End: end}, now)
	var se *quality.StoreError
	var ne net.Error
	switch {
	case errors.Is(err, quality.ErrNoData):
		return fmt.Errorf("quality report: no accepted or rejected items between %s and %s in the store at %s; the analytics receiver's counters are stored by promstore's telemetry option (on in config/pulse.yaml, scraped every 15 s)",
			start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), *url)
	case errors.As(err, &se) && errors.As(err, &ne):
		return fmt.Errorf("quality report: the store at %s is unreachable (%v); start Pulse or pass --url", *url, ne)
	case err != nil:
		return fmt.Errorf("quality report: %w", err)
	}
	if *format == "markdown" {
		return quality.WriteMarkdown(stdout, reports)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(reports)
}

// parseWhen reads a duration before ref (24h, 90m, 7d) or an RFC 3339 time.
func parseWhen(s string, ref time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := model.ParseDuration(s)
	if err != nil || d <= 0 {
		return time.Time{}, fmt.Errorf("want a positive duration (24h, 7d) or an RFC 3339 time, got %q", s)
	}
	return ref.Add(-time.Duration(d)), nil
}
