package promstoreexporter // import "github.com/pulse-otel/pulse/exporter/promstoreexporter"

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery/targetgroup"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/notifier"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/tsdb"
	"go.uber.org/zap"
)

const (
	// notifierQueueCapacity and the drain on shutdown are the Prometheus
	// server's defaults (--alertmanager.notification-queue-capacity,
	// --alertmanager.drain-notification-queue-on-shutdown).
	notifierQueueCapacity = 10_000
	// alertmanagerConfigKey is the name notifier.Manager.ApplyConfig gives
	// the first alertmanagers block (AlertmanagerConfigs.ToMap).
	alertmanagerConfigKey = "config-0"
	// alertmanagerSyncWait bounds how long start waits for the notifier to
	// take the static Alertmanager target in.
	alertmanagerSyncWait = 5 * time.Second
)

// alerting is the rule evaluation and alert delivery half of promstore:
// Prometheus' rules manager over the TSDB and Prometheus' notifier, wired
// as cmd/prometheus wires them.
type alerting struct {
	rules    *rules.Manager
	notifier *notifier.Manager
	files    []string
	extURL   string

	cancel       context.CancelFunc
	rulesDone    chan struct{}
	notifierDone chan struct{}
}

// newAlerting builds the notifier and the rules manager and loads the rule
// files once so that a bad file fails Start with its name. Nothing runs
// until run is called.
func (p *promstore) newAlerting(db *tsdb.DB, engine *promql.Engine, reg prometheus.Registerer, externalURL *url.URL) (*alerting, error) {
	files, err := expandRuleFiles(p.cfg.Rules.Files)
	if err != nil {
		return nil, err
	}
	n := notifier.NewManager(&notifier.Options{
		QueueCapacity:   notifierQueueCapacity,
		DrainOnShutdown: true,
		MaxBatchSize:    notifier.DefaultMaxBatchSize,
		Registerer:      reg,
	}, model.UTF8Validation, p.logger.With("component", "notifier"))

	if p.cfg.Alertmanager.URL != "" {
		amCfg, err := alertmanagerConfig(p.cfg.Alertmanager)
		if err != nil {
			return nil, err
		}
		if err := n.ApplyConfig(&config.Config{
			AlertingConfig: config.AlertingConfig{AlertmanagerConfigs: config.AlertmanagerConfigs{amCfg}},
		}); err != nil {
			return nil, fmt.Errorf("promstore: alertmanager.url %q: %w", p.cfg.Alertmanager.URL, err)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	m := rules.NewManager(&rules.ManagerOptions{
		NameValidationScheme: model.UTF8Validation,
		AppendableV2:         db,
		Queryable:            db,
		QueryFunc:            rules.EngineQueryFunc(engine, db),
		NotifyFunc:           rules.SendAlerts(n, externalURL.String()),
		Context:              ctx,
		ExternalURL:          externalURL,
		Registerer:           reg,
		Logger:               p.logger.With("component", "rule manager"),
		// The Prometheus server's defaults (--rules.alert.*).
		OutageTolerance: time.Hour,
		ForGracePeriod:  10 * time.Minute,
		ResendDelay:     time.Minute,
	})
	// Update only logs why files failed to load; load them here first so
	// that Start fails with the file and the reason.
	if _, errs := m.LoadGroups(p.cfg.Rules.EvaluationInterval, labels.EmptyLabels(), externalURL.String(), nil, false, files...); len(errs) > 0 {
		cancel()
		return nil, fmt.Errorf("promstore: load rule files: %w", errors.Join(errs...))
	}
	return &alerting{rules: m, notifier: n, files: files, extURL: externalURL.String(), cancel: cancel}, nil
}

// runAlerting starts the notifier, points it at the configured Alertmanager, then
// loads the rule groups and starts evaluating them.
func (p *promstore) runAlerting(a *alerting) error {
	tsets := make(chan map[string][]*targetgroup.Group, 1)
	a.notifierDone = make(chan struct{})
	go func() {
		defer close(a.notifierDone)
		a.notifier.Run(tsets)
	}()
	if p.cfg.Alertmanager.URL != "" {
		u, _ := parseAlertmanagerURL(p.cfg.Alertmanager.URL)
		// What the discovery manager sends for a static_configs target.
		tsets <- map[string][]*targetgroup.Group{alertmanagerConfigKey: {{
			Source:  "0",
			Targets: []model.LabelSet{{model.AddressLabel: model.LabelValue(u.Host)}},
		}}}
		// Alerts sent before the target is synced would be dropped until
		// the next resend; wait (bounded) for it.
		deadline := time.Now().Add(alertmanagerSyncWait)
		for len(a.notifier.Alertmanagers()) == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		p.set.Logger.Info("Sending alerts to Alertmanager", zap.Stringers("alertmanagers", a.notifier.Alertmanagers()))
	}

	if err := a.rules.Update(p.cfg.Rules.EvaluationInterval, a.files, labels.EmptyLabels(), a.extURL, nil); err != nil {
		a.notifier.Stop()
		<-a.notifierDone
		a.cancel()
		return fmt.Errorf("promstore: rule files %v: %w", a.files, err)
	}
	a.rulesDone = make(chan struct{})
	go func() {
		defer close(a.rulesDone)
		a.rules.Run()
	}()
	p.set.Logger.Info("Evaluating rules",
		zap.Strings("files", a.files), zap.Int("groups", len(a.rules.RuleGroups())),
		zap.Duration("evaluation_interval", p.cfg.Rules.EvaluationInterval))
	return nil
}

// stop stops rule evaluation, then the notifier after it has drained its
// queue, as the Prometheus server does; the TSDB may be closed afterwards.
func (a *alerting) stop() {
	if a.rulesDone != nil {
		a.rules.Stop()
		<-a.rulesDone
	}
	a.cancel()
	if a.notifierDone != nil {
		a.notifier.Stop()
		<-a.notifierDone
	}
}

// alertmanagerConfig is the alertmanagers block of a Prometheus config for
// the one static Alertmanager at cfg.URL.
func alertmanagerConfig(cfg AlertmanagerConfig) (*config.AlertmanagerConfig, error) {
	u, err := parseAlertmanagerURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("promstore: alertmanager.url: %w", err)
	}
	amCfg := config.DefaultAlertmanagerConfig
	amCfg.Scheme = u.Scheme
	amCfg.PathPrefix = strings.TrimSuffix(u.Path, "/")
	amCfg.Timeout = model.Duration(cfg.Timeout)
	amCfg.APIVersion = config.AlertmanagerAPIVersionV2
	if u.User != nil {
		pw, _ := u.User.Password()
		amCfg.HTTPClientConfig.BasicAuth = &commoncfg.BasicAuth{
			Username: u.User.Username(),
			Password: commoncfg.Secret(pw),
		}
	}
	return &amCfg, nil
}

// expandRuleFiles expands the globs as Prometheus expands rule_files. A
// pattern without glob characters that matches nothing is kept, so that
// the loader reports the missing file by name.
func expandRuleFiles(patterns []string) ([]string, error) {
	var files []string
	seen := map[string]bool{}
	for _, pat := range patterns {
		matches, err := filepath.Glob(pat)
		if err != nil {
			return nil, fmt.Errorf("promstore: rules.files %q: %w", pat, err)
		}
		if len(matches) == 0 && !strings.ContainsAny(pat, `*?[\`) {
			matches = []string{pat}
		}
		for _, m := range matches {
			if !seen[m] {
				seen[m] = true
				files = append(files, m)
			}
		}
	}
	return files, nil
}

// externalURL is the URL alerts link back to (their generatorURL), as the
// Prometheus server builds it by default: http://<hostname>:<port>.
func externalURL(endpoint string) *url.URL {
	host, port, err := net.SplitHostPort(endpoint)
	if err != nil {
		return &url.URL{Scheme: "http", Host: endpoint}
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	return &url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}
}
