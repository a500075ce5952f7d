// Command pulsectl manages Pulse's definitions (alerts, dashboards,
// retention policies), checks its audit trail and reports data quality.
//
//	pulsectl rules validate FILES...
//	pulsectl rules compile --out DIR [flags] FILES...
//	pulsectl rules sync --prometheus-rules-dir DIR --prometheus-url URL FILES...
//	pulsectl rules sync --vmalert-rules-dir DIR --vmalert-url URL FILES...
//	pulsectl rules sync --ruler-url URL [--tenant ID] [--namespace pulse] FILES...
//	pulsectl retention validate|compile --out DIR FILES...
//	pulsectl audit verify|show [--since 24h] [--format text|json] [--audit-dir DIR]
//	pulsectl quality report [--since 24h] [--url URL] [--format json|markdown]
//	pulsectl dashboards validate|compile|sync ...
//
// FILES are alert definition files (YAML or JSON in the seed's alertRules
// shape) or directories of them; see internal/alertrules. compile writes
// DIR/rules.yaml (Prometheus rule groups), DIR/alertmanager.yml and
// DIR/rules_test.yaml (promtool unit tests: promtool test rules
// DIR/rules_test.yaml). sync uploads the compiled rule groups to Prometheus
// (a rule file plus POST /-/reload), to VictoriaMetrics' vmalert (the same,
// then a check of its rules API) or to a Mimir/Cortex ruler; see
// internal/alertrules/rulesync. audit checks and prints the audit trail
// (docs/audit.md), to which both syncs append their runs.
//
// Exit codes: 0 success, 1 invalid definitions or a failed write (for audit
// verify: a broken chain), 2 usage.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulse-otel/pulse/internal/alertrules"
)

const usage = `usage:
  pulsectl rules validate FILES...
      Check alert definitions (files or directories of .yaml, .yml, .json).
  pulsectl rules compile --out DIR [flags] FILES...
      Write DIR/rules.yaml, DIR/alertmanager.yml and DIR/rules_test.yaml.
  pulsectl rules sync --prometheus-rules-dir DIR --prometheus-url URL FILES...
      Write DIR/pulse-rules.yaml if it changed and POST URL/-/reload.
      DIR must match a rule_files glob of the Prometheus configuration,
      and Prometheus must run with --web.enable-lifecycle.
  pulsectl rules sync --vmalert-rules-dir DIR --vmalert-url URL FILES...
      The same for vmalert started with -rule=DIR/*.yaml, then wait for
      its reload and check that URL/api/v1/rules lists the groups.
  pulsectl rules sync --ruler-url URL [--tenant ID] [--namespace pulse] FILES...
      Make the Mimir/Cortex ruler namespace hold exactly the compiled
      groups: POST new and changed groups, DELETE groups that are gone.
  All print what changed; a run with unchanged input changes nothing.
  pulsectl dashboards validate|compile|sync ...
      Dashboard definitions to Grafana; see pulsectl dashboards help.
  pulsectl retention validate|compile --out DIR FILES...
      Retention policies to downsampling rules and promstore's plan; see
      pulsectl retention help.
  pulsectl quality report [--since 24h] [--format json|markdown] ...
      Data-quality report per data source from the store; see pulsectl
      quality help.
  pulsectl audit verify|show [--since 24h] [--audit-dir DIR]
      Check or print the audit trail; see pulsectl audit help.

sync flags:
      --prometheus-rules-dir DIR, --prometheus-url URL,
      --vmalert-rules-dir DIR, --vmalert-url URL, --ruler-url URL,
      --tenant ID (sent as X-Scope-OrgID), --namespace NAME (default pulse),
      --timeout DURATION (per request, default 30s),
      --audit-dir DIR (the run is recorded there; default $PULSE_AUDIT_DIR, else ./data/audit)

compile flags:
`

// Output file names.
const (
	RulesFile        = "rules.yaml"
	AlertmanagerFile = "alertmanager.yml"
	TestsFile        = "rules_test.yaml"
)

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	err := dispatch(args, stdout, stderr)
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "pulsectl: %s\n\n", ue.msg)
		fmt.Fprint(stderr, usage)
		fs := compileFlags(stderr)
		fs.PrintDefaults()
		return 2
	default:
		fmt.Fprintf(stderr, "pulsectl: %v\n", err)
		return 1
	}
}

type compileOpts struct {
	out  string
	opts alertrules.AlertmanagerOptions
}

func compileFlags(w io.Writer) *flag.FlagSet {
	fs, _ := newCompileFlags(w)
	return fs
}

func newCompileFlags(w io.Writer) (*flag.FlagSet, *compileOpts) {
	o := &compileOpts{}
	fs := flag.NewFlagSet("pulsectl rules compile", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.StringVar(&o.out, "out", "", "output directory (created if missing)")
	fs.StringVar(&o.opts.SMSWebhookURL, "alertmanager-sms-url", "", "webhook URL that sends SMS; the recipient is added as ?to= (default placeholder "+alertrules.DefaultSMSWebhookURL+")")
	fs.StringVar(&o.opts.SMTPFrom, "alertmanager-smtp-from", "", "sender of alert emails (default placeholder "+alertrules.DefaultSMTPFrom+")")
	fs.StringVar(&o.opts.SMTPSmarthost, "alertmanager-smtp-smarthost", "", "SMTP server host:port (default placeholder "+alertrules.DefaultSMTPSmarthost+")")
	fs.StringVar(&o.opts.SlackAPIURL, "alertmanager-slack-api-url", "", "Slack incoming webhook URL (default placeholder)")
	return fs, o
}

func dispatch(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"missing command"}
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		compileFlags(stdout).PrintDefaults()
		return nil
	}
	if args[0] == "dashboards" {
		return dashboardsCmd(args[1:], stdout, stderr)
	}
	if args[0] == "retention" {
		return retentionCmd(args[1:], stdout, stderr)
	}
	if args[0] == "quality" {
		return qualityCmd(args[1:], stdout, stderr)
	}
	if args[0] == "audit" {
		return auditCmd(args[1:], stdout, stderr)
	}
	if args[0] != "rules" {
		return usageError{fmt.Sprintf("unknown command %q", args[0])}
	}
	if len(args) < 2 {
		return usageError{"missing rules subcommand (validate, compile, sync)"}
	}
	switch args[1] {
	case "validate":
		return validate(args[2:], stdout)
	case "compile":
		return compile(args[2:], stdout, stderr)
	case "sync":
		return syncRules(args[2:], stdout, stderr)
	}
	return usageError{fmt.Sprintf("unknown rules subcommand %q", args[1])}
}

func validate(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"rules validate: no FILES given"}
	}
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			return usageError{fmt.Sprintf("rules validate: unknown flag %s", a)}
		}
	}
	rules, err := alertrules.Load(args...)
	if err != nil {
		return err
	}
	// Compiling also checks what loading cannot: the PromQL and the
	// Alertmanager configuration as a whole.
	if _, err := compileAll(rules, alertrules.AlertmanagerOptions{}); err != nil {
		return err
	}
	active := 0
	for _, r := range rules {
		if r.IsActive {
			active++
		}
	}
	fmt.Fprintf(stdout, "%d rules valid (%d active)\n", len(rules), active)
	return nil
}

type outputs struct{ rules, am, tests []byte }

func compileAll(rules []alertrules.Rule, opts alertrules.AlertmanagerOptions) (outputs, error) {
	groups, err := alertrules.CompileRules(rules)
	if err != nil {
		return outputs{}, err
	}
	var o outputs
	if o.rules, err = alertrules.MarshalRules(groups); err != nil {
		return outputs{}, err
	}
	if o.am, err = alertrules.CompileAlertmanager(rules, opts); err != nil {
		return outputs{}, err
	}
	if o.tests, err = alertrules.CompileTests(rules, RulesFile); err != nil {
		return outputs{}, err
	}
	return o, nil
}

func compile(args []string, stdout, stderr io.Writer) error {
	fs, o := newCompileFlags(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{"rules compile: " + err.Error()}
	}
	if o.out == "" {
		return usageError{"rules compile: --out DIR is required"}
	}
	if fs.NArg() == 0 {
		return usageError{"rules compile: no FILES given"}
	}
	rules, err := alertrules.Load(fs.Args()...)
	if err != nil {
		return err
	}
	out, err := compileAll(rules, o.opts)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{RulesFile, out.rules}, {AlertmanagerFile, out.am}, {TestsFile, out.tests}} {
		p := filepath.Join(o.out, f.name)
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", p)
	}
	return nil
}
