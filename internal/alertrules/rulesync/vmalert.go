package rulesync

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/rulefmt"
)

// DefaultReloadWait bounds how long VMAlert waits for vmalert to apply a
// reload and show the groups in its rules API.
const DefaultReloadWait = 15 * time.Second

// VMAlertOptions configures VMAlert.
type VMAlertOptions struct {
	// RulesDir is a directory that vmalert reads with -rule=RulesDir/*.yaml;
	// PrometheusRulesFile is written there.
	RulesDir string
	// URL is vmalert's base URL (its -httpListenAddr).
	URL string
	// Client defaults to an http.Client with DefaultTimeout.
	Client *http.Client
	// Wait bounds the wait for the reload and the groups to show;
	// default DefaultReloadWait.
	Wait time.Duration
}

// VMAlert writes groups to RulesDir/pulse-rules.yaml as Prometheus does,
// asks vmalert to reload (POST URL/-/reload) when the file changed, and
// then checks in URL/api/v1/rules that vmalert evaluates exactly these
// groups with these rules; it checks also when the file was up to date,
// so a vmalert started without the right -rule flag is found.
//
// vmalert's reload answers 200 before it reads the files (it signals
// itself with SIGHUP), and a file it cannot parse leaves it running with
// its previous rules. So VMAlert waits, up to Wait, for vmalert's reload
// counter (vmalert_config_last_reload_total on URL/metrics) to move and
// reports a failed reload from vmalert_config_last_reload_successful;
// MetricsQL rejects some PromQL that Prometheus accepts, and this is where
// it shows.
func VMAlert(ctx context.Context, o VMAlertOptions, groups rulefmt.RuleGroups) (PrometheusResult, error) {
	if o.RulesDir == "" || o.URL == "" {
		return PrometheusResult{}, errors.New("sync: vmalert needs a rules directory and a URL")
	}
	wait := o.Wait
	if wait <= 0 {
		wait = DefaultReloadWait
	}
	hc := client(o.Client)
	base := strings.TrimRight(o.URL, "/")
	// Read the counter before writing, so a reload vmalert does by
	// itself (-rule.configCheckInterval) between the write and the POST
	// counts too.
	before, beforeErr := reloadStatus(ctx, hc, base)
	res, err := writeRules(o.RulesDir, groups)
	if err != nil {
		return res, err
	}
	deadline := time.Now().Add(wait)
	if res.Written {
		if _, err := do(ctx, hc, http.MethodPost, base+"/-/reload", nil, nil, http.StatusOK); err != nil {
			return res, fmt.Errorf("wrote %s but the reload failed: %w", res.Path, err)
		}
		res.Reloaded = true
		if beforeErr == nil {
			if err := waitReload(ctx, hc, base, before, deadline); err != nil {
				return res, fmt.Errorf("wrote %s: %w", res.Path, err)
			}
		}
	}
	var missing []string
	for {
		missing, err = checkLoaded(ctx, hc, base, groups.Groups, res.Changes.Deleted)
		if err != nil || len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return res, err
		}
	}
	if err != nil {
		return res, err
	}
	if len(missing) > 0 {
		return res, fmt.Errorf("vmalert at %s does not evaluate the rules of %s (is it started with -rule=%s/*.yaml?): %s",
			o.URL, res.Path, strings.TrimRight(o.RulesDir, "/"), strings.Join(missing, "; "))
	}
	return res, nil
}

// reloadCounters are the vmalert metrics that say whether a reload was
// applied.
type reloadCounters struct {
	total      float64 // vmalert_config_last_reload_total
	successful float64 // vmalert_config_last_reload_successful
}

// reloadStatus reads vmalert's reload metrics from base/metrics.
func reloadStatus(ctx context.Context, hc *http.Client, base string) (reloadCounters, error) {
	body, err := do(ctx, hc, http.MethodGet, base+"/metrics", nil, nil, http.StatusOK)
	if err != nil {
		return reloadCounters{}, err
	}
	var c reloadCounters
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		var dst *float64
		switch name {
		case "vmalert_config_last_reload_total":
			dst = &c.total
		case "vmalert_config_last_reload_successful":
			dst = &c.successful
		default:
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			*dst = v
			found++
		}
	}
	if found < 2 {
		return c, fmt.Errorf("GET %s/metrics: no vmalert_config_last_reload_total and _successful (is this vmalert?)", base)
	}
	return c, nil
}

// waitReload waits until vmalert's reload counter passes before.total and
// fails when that reload was not successful.
func waitReload(ctx context.Context, hc *http.Client, base string, before reloadCounters, deadline time.Time) error {
	for {
		c, err := reloadStatus(ctx, hc, base)
		if err != nil {
			return err
		}
		if c.total > before.total {
			if c.successful != 1 {
				return errors.New("vmalert rejected the rules on reload (vmalert_config_last_reload_successful 0; its log names the group and the parse error) and keeps evaluating its previous rules")
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("vmalert at %s did not reload within the wait (vmalert_config_last_reload_total still %v)", base, c.total)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// loadedRules is the part of the Prometheus rules API answer
// (GET /api/v1/rules) that VMAlert checks; vmalert answers in this shape.
type loadedRules struct {
	Status string `json:"status"`
	Data   struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Name string `json:"name"`
			} `json:"rules"`
		} `json:"groups"`
	} `json:"data"`
}

// checkLoaded compares the groups the rules API at base serves with want
// (by name and the set of rule names) and with the groups just deleted, and
// returns what differs, one entry per group. Groups from other files are
// not Pulse's and are left alone.
func checkLoaded(ctx context.Context, hc *http.Client, base string, want []rulefmt.RuleGroup, deleted []string) ([]string, error) {
	u := base + "/api/v1/rules"
	body, err := do(ctx, hc, http.MethodGet, u, nil, nil, http.StatusOK)
	if err != nil {
		return nil, err
	}
	var got loadedRules
	if err := json.Unmarshal(body, &got); err != nil || got.Status != "success" {
		return nil, fmt.Errorf("GET %s: not a Prometheus rules API answer (status %q, %v): %s", u, got.Status, err, excerpt(body))
	}
	loaded := map[string][]string{}
	for _, g := range got.Data.Groups {
		for _, r := range g.Rules {
			loaded[g.Name] = append(loaded[g.Name], r.Name)
		}
		if _, ok := loaded[g.Name]; !ok {
			loaded[g.Name] = []string{}
		}
	}
	var missing []string
	for _, g := range want {
		names := make([]string, len(g.Rules))
		for i, r := range g.Rules {
			names[i] = r.Alert + r.Record
		}
		slices.Sort(names)
		have, ok := loaded[g.Name]
		have = slices.Sorted(slices.Values(have))
		switch {
		case !ok:
			missing = append(missing, "group "+g.Name+" is not loaded")
		case !slices.Equal(have, names):
			missing = append(missing, fmt.Sprintf("group %s has %d rules %s, want %d %s", g.Name, len(have), short(have), len(names), short(names)))
		}
	}
	for _, name := range deleted {
		if _, ok := loaded[name]; ok {
			missing = append(missing, "deleted group "+name+" is still loaded")
		}
	}
	return missing, nil
}

// short lists up to five names for an error message.
func short(names []string) string {
	if len(names) > 5 {
		return "[" + strings.Join(names[:5], " ") + " …]"
	}
	return "[" + strings.Join(names, " ") + "]"
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
