package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/prometheus/prometheus/model/rulefmt"

	"github.com/pulse-otel/pulse/internal/alertrules"
	"github.com/pulse-otel/pulse/internal/alertrules/rulesync"
	"github.com/pulse-otel/pulse/internal/audit"
)

type syncOpts struct {
	promDir, promURL            string
	vmDir, vmURL                string
	rulerURL, tenant, namespace string
	timeout                     time.Duration
	auditDir                    string
}

func newSyncFlags(w io.Writer) (*flag.FlagSet, *syncOpts) {
	o := &syncOpts{}
	fs := flag.NewFlagSet("pulsectl rules sync", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.StringVar(&o.promDir, "prometheus-rules-dir", "", "Prometheus mode: directory matched by a rule_files glob; "+rulesync.PrometheusRulesFile+" is written there")
	fs.StringVar(&o.promURL, "prometheus-url", "", "Prometheus mode: base URL of Prometheus (run with --web.enable-lifecycle)")
	fs.StringVar(&o.vmDir, "vmalert-rules-dir", "", "vmalert mode: directory vmalert reads with -rule=DIR/*.yaml; "+rulesync.PrometheusRulesFile+" is written there")
	fs.StringVar(&o.vmURL, "vmalert-url", "", "vmalert mode: base URL of vmalert (its -httpListenAddr)")
	fs.StringVar(&o.rulerURL, "ruler-url", "", "ruler mode: base URL of Mimir or Cortex")
	fs.StringVar(&o.tenant, "tenant", "", "ruler mode: tenant ID, sent as X-Scope-OrgID")
	fs.StringVar(&o.namespace, "namespace", rulesync.DefaultNamespace, "ruler mode: rule namespace owned by pulsectl (groups not compiled are deleted from it)")
	fs.DurationVar(&o.timeout, "timeout", rulesync.DefaultTimeout, "timeout of each HTTP request")
	fs.StringVar(&o.auditDir, "audit-dir", auditDirDefault(), "audit log directory the sync is recorded in")
	return fs, o
}

func syncRules(args []string, stdout, stderr io.Writer) error {
	fs, o := newSyncFlags(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{"rules sync: " + err.Error()}
	}
	prom := o.promDir != "" || o.promURL != ""
	vm := o.vmDir != "" || o.vmURL != ""
	ruler := o.rulerURL != ""
	modes := 0
	for _, m := range []bool{prom, vm, ruler} {
		if m {
			modes++
		}
	}
	switch {
	case modes > 1:
		return usageError{"rules sync: use one of --prometheus-rules-dir/--prometheus-url, --vmalert-rules-dir/--vmalert-url or --ruler-url"}
	case prom && (o.promDir == "" || o.promURL == ""):
		return usageError{"rules sync: --prometheus-rules-dir and --prometheus-url go together"}
	case vm && (o.vmDir == "" || o.vmURL == ""):
		return usageError{"rules sync: --vmalert-rules-dir and --vmalert-url go together"}
	case modes == 0:
		return usageError{"rules sync: give --prometheus-rules-dir DIR --prometheus-url URL, --vmalert-rules-dir DIR --vmalert-url URL, or --ruler-url URL"}
	case !ruler && (o.tenant != "" || o.namespace != rulesync.DefaultNamespace):
		return usageError{"rules sync: --tenant and --namespace apply to --ruler-url only"}
	case ruler && o.namespace == "":
		return usageError{"rules sync: --namespace must not be empty"}
	case fs.NArg() == 0:
		return usageError{"rules sync: no FILES given"}
	}
	rules, err := alertrules.Load(fs.Args()...)
	if err != nil {
		return err
	}
	groups, err := alertrules.CompileRules(rules)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	hc := &http.Client{Timeout: o.timeout}
	if prom {
		res, err := rulesync.Prometheus(ctx, rulesync.PrometheusOptions{RulesDir: o.promDir, URL: o.promURL, Client: hc}, groups)
		if err != nil {
			return fmt.Errorf("rules sync: %w", err)
		}
		printFileSync(stdout, res, "Prometheus", o.promURL, "")
		return recordRulesSync(o, "prometheus", o.promURL, groups, res.Changes)
	}
	if vm {
		res, err := rulesync.VMAlert(ctx, rulesync.VMAlertOptions{RulesDir: o.vmDir, URL: o.vmURL, Client: hc}, groups)
		if err != nil {
			return fmt.Errorf("rules sync: %w", err)
		}
		printFileSync(stdout, res, "vmalert", o.vmURL, fmt.Sprintf("; vmalert evaluates the %d groups", len(groups.Groups)))
		return recordRulesSync(o, "vmalert", o.vmURL, groups, res.Changes)
	}
	res, err := rulesync.Ruler(ctx, rulesync.RulerOptions{URL: o.rulerURL, Tenant: o.tenant, Namespace: o.namespace, Client: hc}, groups)
	if err != nil {
		return fmt.Errorf("rules sync: %w", err)
	}
	who := ""
	if o.tenant != "" {
		who = ", tenant " + o.tenant
	}
	fmt.Fprintf(stdout, "ruler %s namespace %s%s: %s\n", o.rulerURL, res.Namespace, who, res.Changes)
	return recordRulesSync(o, "ruler", o.rulerURL, groups, res.Changes)
}

// recordRulesSync appends a rules.sync record: the target without
// credentials, the groups, the content hash and what changed.
func recordRulesSync(o *syncOpts, mode, target string, groups rulefmt.RuleGroups, ch rulesync.Changes) error {
	content, err := alertrules.MarshalRules(groups)
	if err != nil {
		return fmt.Errorf("rules sync: %w", err)
	}
	names := make([]string, 0, len(groups.Groups))
	for _, g := range groups.Groups {
		names = append(names, g.Name)
	}
	d := map[string]string{
		"mode": mode, "groups": joinNames(names), "content_sha256": contentHash(content),
		"created": joinNames(ch.Created), "updated": joinNames(ch.Updated), "deleted": joinNames(ch.Deleted),
	}
	if mode == "ruler" {
		d["namespace"] = o.namespace
		d["tenant"] = o.tenant
	}
	if err := recordSync(o.auditDir, audit.Entry{Action: audit.ActionRulesSync, Actor: auditActor, Source: auditActor, Object: auditTarget(target), Details: d}); err != nil {
		return fmt.Errorf("rules sync: %w", err)
	}
	return nil
}

// printFileSync reports a file-mode sync: what changed in the file and
// whether the evaluator named who at u was reloaded; checked is appended
// to the last line.
func printFileSync(w io.Writer, res rulesync.PrometheusResult, who, u, checked string) {
	if !res.Written {
		fmt.Fprintf(w, "%s: %s; %s not reloaded%s\n", res.Path, res.Changes, who, checked)
		return
	}
	fmt.Fprintf(w, "wrote %s: %s\nreloaded %s at %s%s\n", res.Path, res.Changes, who, u, checked)
}
