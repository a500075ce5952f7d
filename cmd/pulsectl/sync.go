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

	"github.com/pulse-otel/pulse/internal/alertrules"
	"github.com/pulse-otel/pulse/internal/alertrules/rulesync"
)

type syncOpts struct {
	promDir, promURL            string
	rulerURL, tenant, namespace string
	timeout                     time.Duration
}

func newSyncFlags(w io.Writer) (*flag.FlagSet, *syncOpts) {
	o := &syncOpts{}
	fs := flag.NewFlagSet("pulsectl rules sync", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.StringVar(&o.promDir, "prometheus-rules-dir", "", "Prometheus mode: directory matched by a rule_files glob; "+rulesync.PrometheusRulesFile+" is written there")
	fs.StringVar(&o.promURL, "prometheus-url", "", "Prometheus mode: base URL of Prometheus (run with --web.enable-lifecycle)")
	fs.StringVar(&o.rulerURL, "ruler-url", "", "ruler mode: base URL of Mimir or Cortex")
	fs.StringVar(&o.tenant, "tenant", "", "ruler mode: tenant ID, sent as X-Scope-OrgID")
	fs.StringVar(&o.namespace, "namespace", rulesync.DefaultNamespace, "ruler mode: rule namespace owned by pulsectl (groups not compiled are deleted from it)")
	fs.DurationVar(&o.timeout, "timeout", rulesync.DefaultTimeout, "timeout of each HTTP request")
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
	ruler := o.rulerURL != ""
	switch {
	case prom && ruler:
		return usageError{"rules sync: use either --prometheus-rules-dir/--prometheus-url or --ruler-url, not both"}
	case prom && (o.promDir == "" || o.promURL == ""):
		return usageError{"rules sync: --prometheus-rules-dir and --prometheus-url go together"}
	case !prom && !ruler:
		return usageError{"rules sync: give --prometheus-rules-dir DIR --prometheus-url URL, or --ruler-url URL"}
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
		if !res.Written {
			fmt.Fprintf(stdout, "%s: %s; Prometheus not reloaded\n", res.Path, res.Changes)
			return nil
		}
		fmt.Fprintf(stdout, "wrote %s: %s\nreloaded Prometheus at %s\n", res.Path, res.Changes, o.promURL)
		return nil
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
	return nil
}
