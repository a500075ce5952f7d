package rulesync

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeVMAlert answers vmalert's reload, metrics and rules API from fields
// the test sets; cmd/pulsectl's TestSyncVMAlert runs the real vmalert.
type fakeVMAlert struct {
	mu         sync.Mutex
	reloads    int
	successful int    // vmalert_config_last_reload_successful after a reload
	countMoves bool   // whether a reload moves vmalert_config_last_reload_total
	rules      string // the /api/v1/rules answer
}

func (f *fakeVMAlert) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/-/reload":
		if f.countMoves {
			f.reloads++
		}
	case "/metrics":
		fmt.Fprintf(w, "vmalert_config_last_reload_errors_total 0\nvmalert_config_last_reload_successful %d\nvmalert_config_last_reload_total %d\n", f.successful, f.reloads)
	case "/api/v1/rules":
		_, _ = w.Write([]byte(f.rules))
	default:
		http.NotFound(w, r)
	}
}

func rulesAnswer(groups map[string][]string) string {
	var gs []string
	for name, rules := range groups {
		var rs []string
		for _, r := range rules {
			rs = append(rs, fmt.Sprintf(`{"name":%q,"type":"alerting"}`, r))
		}
		gs = append(gs, fmt.Sprintf(`{"name":%q,"rules":[%s]}`, name, strings.Join(rs, ",")))
	}
	return `{"status":"success","data":{"groups":[` + strings.Join(gs, ",") + `]}}`
}

func TestVMAlertErrors(t *testing.T) {
	g := defaults(t)
	full := map[string][]string{}
	for _, grp := range g.Groups {
		for _, r := range grp.Rules {
			full[grp.Name] = append(full[grp.Name], r.Alert)
		}
	}
	oneShort := map[string][]string{}
	for k, v := range full {
		oneShort[k] = v
	}
	oneShort["pulse-every-5m"] = full["pulse-every-5m"][1:]

	for _, c := range []struct {
		name string
		fake *fakeVMAlert
		want string // "" for success
	}{
		{"loaded", &fakeVMAlert{successful: 1, countMoves: true, rules: rulesAnswer(full)}, ""},
		{"rejected", &fakeVMAlert{successful: 0, countMoves: true, rules: rulesAnswer(full)}, "vmalert rejected the rules on reload (vmalert_config_last_reload_successful 0"},
		{"no reload", &fakeVMAlert{successful: 1, rules: rulesAnswer(full)}, "did not reload within the wait (vmalert_config_last_reload_total still 0)"},
		{"group missing", &fakeVMAlert{successful: 1, countMoves: true, rules: rulesAnswer(map[string][]string{"pulse-every-1m": full["pulse-every-1m"]})}, "does not evaluate the rules of "},
		{"rule missing", &fakeVMAlert{successful: 1, countMoves: true, rules: rulesAnswer(oneShort)}, fmt.Sprintf("group pulse-every-5m has %d rules", len(oneShort["pulse-every-5m"]))},
		{"not the rules API", &fakeVMAlert{successful: 1, countMoves: true, rules: "<html>" + strings.Repeat("x", 2000)}, "not a Prometheus rules API answer"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(c.fake)
			defer srv.Close()
			dir := t.TempDir()
			res, err := VMAlert(context.Background(), VMAlertOptions{RulesDir: dir, URL: srv.URL, Wait: 500 * time.Millisecond}, g)
			if c.want == "" {
				if err != nil || !res.Written || !res.Reloaded {
					t.Fatalf("%+v, %v", res, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || len(err.Error()) > 700 {
				t.Fatalf("error %v, want it to contain %q (and be short)", err, c.want)
			}
			if c.name == "group missing" && !strings.Contains(err.Error(), "group pulse-every-5m is not loaded") {
				t.Errorf("error does not name the missing group: %v", err)
			}
		})
	}

	// A deleted group that vmalert still evaluates is named.
	srv := httptest.NewServer(&fakeVMAlert{successful: 1, countMoves: true, rules: rulesAnswer(full)})
	defer srv.Close()
	dir := t.TempDir()
	if _, err := VMAlert(context.Background(), VMAlertOptions{RulesDir: dir, URL: srv.URL, Wait: 500 * time.Millisecond}, g); err != nil {
		t.Fatal(err)
	}
	g.Groups = g.Groups[:1]
	_, err := VMAlert(context.Background(), VMAlertOptions{RulesDir: dir, URL: srv.URL, Wait: 500 * time.Millisecond}, g)
	if err == nil || !strings.Contains(err.Error(), "deleted group pulse-every-5m is still loaded") {
		t.Errorf("deleted group: %v", err)
	}
}
