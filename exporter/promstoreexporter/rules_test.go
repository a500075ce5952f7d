package promstoreexporter

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/pulse-otel/pulse/exporter/promstoreexporter/internal/metadata"
	"github.com/pulse-otel/pulse/internal/alertrules"
	"github.com/pulse-otel/pulse/internal/testutil"
)

// testRules has one always-firing alert and one recording rule, in the
// shape `pulsectl rules compile` writes.
const testRules = `groups:
  - name: pulse-test
    rules:
      - record: pulse:test_one:value
        expr: vector(1)
        labels:
          source: promstore
      - alert: PulseTestAlert
        expr: vector(1)
        for: 0s
        labels:
          severity: page
          team: sre
        annotations:
          summary: always firing
`

// rulesConfig is a test config that evaluates testRules every second.
func rulesConfig(t *testing.T) *Config {
	t.Helper()
	rulesDir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(rulesDir, "rules.yaml"), []byte(testRules), 0o600))
	cfg := testConfig(t, t.TempDir())
	cfg.Rules.Files = []string{filepath.Join(rulesDir, "*.yaml")}
	cfg.Rules.EvaluationInterval = time.Second
	require.NoError(t, cfg.Validate())
	return cfg
}

func shutdownOnCleanup(t *testing.T, cfg *Config) {
	t.Helper()
	exp := startExporter(t, cfg)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		assert.NoError(t, exp.Shutdown(ctx))
	})
}

func TestRulesEvaluatedAndServed(t *testing.T) {
	cfg := rulesConfig(t)
	shutdownOnCleanup(t, cfg)
	client := apiClient(t, cfg)
	ctx := context.Background()

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		res, err := client.Rules(ctx, nil)
		require.NoError(c, err)
		require.Len(c, res.Groups, 1)
		g := res.Groups[0]
		assert.Equal(c, "pulse-test", g.Name)
		assert.InDelta(c, 1.0, g.Interval, 0)
		require.Len(c, g.Rules, 2)
		rec, ok := g.Rules[0].(promv1.RecordingRule)
		require.True(c, ok, "first rule is a recording rule: %T", g.Rules[0])
		assert.Equal(c, "pulse:test_one:value", rec.Name)
		assert.EqualValues(c, promv1.RuleHealthGood, rec.Health)
		al, ok := g.Rules[1].(promv1.AlertingRule)
		require.True(c, ok, "second rule is an alerting rule: %T", g.Rules[1])
		assert.Equal(c, "PulseTestAlert", al.Name)
		assert.EqualValues(c, promv1.RuleHealthGood, al.Health)
		assert.Equal(c, "firing", al.State)
		assert.False(c, al.LastEvaluation.IsZero())
	}, 15*time.Second, 200*time.Millisecond)

	alerts, err := client.Alerts(ctx)
	require.NoError(t, err)
	require.Len(t, alerts.Alerts, 1)
	a := alerts.Alerts[0]
	assert.Equal(t, promv1.AlertStateFiring, a.State)
	assert.Equal(t, model.LabelValue("PulseTestAlert"), a.Labels[model.AlertNameLabel])
	assert.Equal(t, model.LabelValue("page"), a.Labels["severity"])
	assert.Equal(t, model.LabelValue("always firing"), a.Annotations["summary"])

	// The recording rule's samples are written to the TSDB.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		v, _, _, err := client.Query(ctx, "pulse:test_one:value", time.Now())
		require.NoError(c, err)
		vec, ok := v.(model.Vector)
		require.True(c, ok)
		require.Len(c, vec, 1)
		assert.Equal(c, model.SampleValue(1), vec[0].Value)
		assert.Equal(c, model.LabelValue("promstore"), vec[0].Metric["source"])
	}, 10*time.Second, 200*time.Millisecond)

	// No Alertmanager configured: none is listed.
	ams, err := client.AlertManagers(ctx)
	require.NoError(t, err)
	assert.Empty(t, ams.Active)
}

func TestNoRulesServesEmptyLists(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	shutdownOnCleanup(t, cfg)
	client := apiClient(t, cfg)
	res, err := client.Rules(context.Background(), nil)
	require.NoError(t, err)
	assert.Empty(t, res.Groups)
	alerts, err := client.Alerts(context.Background())
	require.NoError(t, err)
	assert.Empty(t, alerts.Alerts)
}

// amAlert is one alert in a POST /api/v2/alerts body.
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

// fakeAlertmanager records the alerts POSTed to its v2 API.
type fakeAlertmanager struct {
	mu     sync.Mutex
	alerts []amAlert
	bad    []string
}

func (f *fakeAlertmanager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/prefix/api/v2/alerts" {
		f.bad = append(f.bad, r.Method+" "+r.URL.Path)
		http.NotFound(w, r)
		return
	}
	var batch []amAlert
	if err := json.NewDecoder(r.Body).Decode(&batch); err != nil {
		f.bad = append(f.bad, err.Error())
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.alerts = append(f.alerts, batch...)
	w.WriteHeader(http.StatusOK)
}

func (f *fakeAlertmanager) received() ([]amAlert, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]amAlert(nil), f.alerts...), append([]string(nil), f.bad...)
}

func TestAlertsSentToAlertmanager(t *testing.T) {
	am := &fakeAlertmanager{}
	srv := httptest.NewServer(am)
	t.Cleanup(srv.Close)

	cfg := rulesConfig(t)
	cfg.Alertmanager.URL = srv.URL + "/prefix/"
	cfg.Alertmanager.Timeout = 2 * time.Second
	require.NoError(t, cfg.Validate())
	shutdownOnCleanup(t, cfg)

	var got amAlert
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		alerts, bad := am.received()
		assert.Empty(c, bad)
		require.NotEmpty(c, alerts)
		got = alerts[0]
	}, 15*time.Second, 100*time.Millisecond)

	assert.Equal(t, "PulseTestAlert", got.Labels["alertname"])
	assert.Equal(t, "page", got.Labels["severity"])
	assert.Equal(t, "sre", got.Labels["team"])
	assert.Equal(t, "always firing", got.Annotations["summary"])
	assert.False(t, got.StartsAt.IsZero())
	assert.True(t, got.EndsAt.After(time.Now()), "a firing alert ends in the future: %s", got.EndsAt)
	assert.Contains(t, got.GeneratorURL, "http://"+cfg.NetAddr.Endpoint+"/graph?g0.expr=vector%281%29")

	// The API lists the Alertmanager it sends to.
	ams, err := apiClient(t, cfg).AlertManagers(context.Background())
	require.NoError(t, err)
	require.Len(t, ams.Active, 1)
	assert.Equal(t, srv.URL+"/prefix/api/v2/alerts", ams.Active[0].URL)
}

// TestAlertmanagerEndToEnd sends alerts to a real Alertmanager whose
// receiver is a webhook served by the test.
func TestAlertmanagerEndToEnd(t *testing.T) {
	bin, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("prometheus-alertmanager is not on PATH: %v", err)
		}
		t.Skip("prometheus-alertmanager is not on PATH")
	}

	type webhookMsg struct {
		Status string `json:"status"`
		Alerts []struct {
			Status string            `json:"status"`
			Labels map[string]string `json:"labels"`
		} `json:"alerts"`
	}
	msgs := make(chan webhookMsg, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m webhookMsg
		if err := json.NewDecoder(r.Body).Decode(&m); err == nil {
			select {
			case msgs <- m:
			default:
			}
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(hook.Close)

	dir := t.TempDir()
	amConfig := fmt.Sprintf(`route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: %s
        send_resolved: false
`, hook.URL)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(amConfig), 0o600))
	amAddr := testutil.FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin,
		"--config.file="+filepath.Join(dir, "alertmanager.yml"),
		"--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+amAddr,
		"--cluster.listen-address=",
	)
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("alertmanager output:\n%s", logs.String())
		}
	})

	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + amAddr + "/-/ready")
		if err != nil {
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 15*time.Second, 100*time.Millisecond, "alertmanager did not become ready")

	cfg := rulesConfig(t)
	cfg.Alertmanager.URL = "http://" + amAddr
	require.NoError(t, cfg.Validate())
	shutdownOnCleanup(t, cfg)

	select {
	case m := <-msgs:
		assert.Equal(t, "firing", m.Status)
		require.NotEmpty(t, m.Alerts)
		assert.Equal(t, "PulseTestAlert", m.Alerts[0].Labels["alertname"])
		assert.Equal(t, "page", m.Alerts[0].Labels["severity"])
		assert.Equal(t, "firing", m.Alerts[0].Status)
	case <-time.After(30 * time.Second):
		t.Fatal("the webhook got no notification from Alertmanager within 30s")
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

func TestStartFailsOnBadRuleFile(t *testing.T) {
	rulesDir := t.TempDir()
	bad := filepath.Join(rulesDir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte(`groups:
  - name: broken
    rules:
      - alert: Broken
        expr: sum(
`), 0o600))
	missing := filepath.Join(rulesDir, "missing.yaml")

	for name, file := range map[string]string{"invalid": bad, "missing": missing} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t, t.TempDir())
			cfg.Rules.Files = []string{file}
			exp, err := NewFactory().CreateMetrics(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
			require.NoError(t, err)
			err = exp.Start(context.Background(), componenttest.NewNopHost())
			require.Error(t, err)
			assert.Contains(t, err.Error(), file)
			assert.NoError(t, exp.Shutdown(context.Background()))
		})
	}
}

func TestExpandRuleFiles(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.yaml", "b.yaml", "c.txt"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte("groups: []\n"), 0o600))
	}
	files, err := expandRuleFiles([]string{
		filepath.Join(dir, "*.yaml"),
		filepath.Join(dir, "a.yaml"), // duplicate
		filepath.Join(dir, "none-*.yaml"),
		filepath.Join(dir, "literal.yaml"), // kept so the loader names it
	})
	require.NoError(t, err)
	assert.Equal(t, []string{
		filepath.Join(dir, "a.yaml"),
		filepath.Join(dir, "b.yaml"),
		filepath.Join(dir, "literal.yaml"),
	}, files)
}

func TestAlertmanagerConfig(t *testing.T) {
	c, err := alertmanagerConfig(AlertmanagerConfig{URL: "https://user:pw@am.example:9093/am/", Timeout: 3 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, "https", c.Scheme)
	assert.Equal(t, "/am", c.PathPrefix)
	assert.Equal(t, model.Duration(3*time.Second), c.Timeout)
	assert.Equal(t, "v2", string(c.APIVersion))
	require.NotNil(t, c.HTTPClientConfig.BasicAuth)
	assert.Equal(t, "user", c.HTTPClientConfig.BasicAuth.Username)
	assert.Equal(t, "pw", string(c.HTTPClientConfig.BasicAuth.Password))
}

// TestCompiledRepoRulesLoad compiles config/alerts as `pulsectl rules
// compile` does and checks promstore loads and evaluates every group.
func TestCompiledRepoRulesLoad(t *testing.T) {
	defs, err := alertrules.Load(filepath.Join("..", "..", "config", "alerts"))
	require.NoError(t, err)
	groups, err := alertrules.CompileRules(defs)
	require.NoError(t, err)
	b, err := alertrules.MarshalRules(groups)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(file, b, 0o600))

	cfg := testConfig(t, t.TempDir())
	cfg.Rules.Files = []string{file}
	shutdownOnCleanup(t, cfg)

	res, err := apiClient(t, cfg).Rules(context.Background(), nil)
	require.NoError(t, err)
	want := map[string]int{}
	for _, g := range groups.Groups {
		want[g.Name] = len(g.Rules)
	}
	got := map[string]int{}
	for _, g := range res.Groups {
		got[g.Name] = len(g.Rules)
	}
	assert.Equal(t, want, got)
}
