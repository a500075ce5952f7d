package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulse-otel/pulse/internal/retention"
)

const retentionUsage = `usage:
  pulsectl retention validate FILES...
      Check retention policies (files or directories of .yaml, .yml, .json
      in the seed's dataRetentionPolicies shape; see docs/retention.md).
  pulsectl retention compile --out DIR FILES...
      Write DIR/rules.yaml (the downsampling recording rules x:5m and x:1h,
      for promstore's rules.files) and DIR/policies.json (the enforcement
      plan, for promstore's retention.policies).
`

// Retention output files.
const (
	RetentionRulesFile = "rules.yaml"
	RetentionPlanFile  = "policies.json"
)

func retentionCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return retentionUsageError("missing retention subcommand (validate, compile)")
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, retentionUsage)
		return nil
	case "validate":
		for _, a := range args[1:] {
			if strings.HasPrefix(a, "-") {
				return retentionUsageError("validate: unknown flag " + a)
			}
		}
		if len(args) < 2 {
			return retentionUsageError("validate: no FILES given")
		}
		rules, plan, err := compileRetention(args[1:])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d policies valid (%d rule groups, version %s)\n", len(plan.Policies), len(rules), plan.Version)
		return nil
	case "compile":
		return compileRetentionCmd(args[1:], stdout, stderr)
	}
	return retentionUsageError(fmt.Sprintf("unknown retention subcommand %q", args[0]))
}

func retentionUsageError(msg string) error {
	return usageError{"retention: " + msg + " (see pulsectl retention help)"}
}

// compileRetention loads the policies of paths and compiles both outputs.
func compileRetention(paths []string) (groups []string, plan retention.Plan, err error) {
	ps, err := retention.Load(paths...)
	if err != nil {
		return nil, retention.Plan{}, err
	}
	rg, err := retention.RecordingRules(ps)
	if err != nil {
		return nil, retention.Plan{}, err
	}
	if plan, err = retention.Compile(ps); err != nil {
		return nil, retention.Plan{}, err
	}
	for _, g := range rg.Groups {
		groups = append(groups, g.Name)
	}
	return groups, plan, nil
}

func compileRetentionCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pulsectl retention compile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "output directory (created if missing)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return retentionUsageError("compile: " + err.Error())
	}
	if *out == "" {
		return retentionUsageError("compile: --out DIR is required")
	}
	if fs.NArg() == 0 {
		return retentionUsageError("compile: no FILES given")
	}
	ps, err := retention.Load(fs.Args()...)
	if err != nil {
		return err
	}
	groups, err := retention.RecordingRules(ps)
	if err != nil {
		return err
	}
	rules, err := retention.MarshalRules(groups)
	if err != nil {
		return err
	}
	plan, err := retention.Compile(ps)
	if err != nil {
		return err
	}
	planJSON, err := retention.MarshalPlan(plan)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		b    []byte
	}{{RetentionRulesFile, rules}, {RetentionPlanFile, planJSON}} {
		p := filepath.Join(*out, f.name)
		// Written aside and renamed: promstore never reads half a file.
		tmp := p + ".tmp"
		if err := os.WriteFile(tmp, f.b, 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, p); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", p)
	}
	fmt.Fprintf(stdout, "policy version %s\n", plan.Version)
	return nil
}
