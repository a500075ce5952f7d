package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pulse-otel/pulse/internal/testutil"
)

func TestQualityReportUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"quality"}, "missing quality subcommand"},
		{[]string{"quality", "report", "--format", "csv"}, `--format must be json or markdown, got "csv"`},
		{[]string{"quality", "report", "--since", "yesterday"}, `--since: want a positive duration (24h, 7d) or an RFC 3339 time, got "yesterday"`},
		{[]string{"quality", "report", "--until", "-5m"}, "--until: want a positive duration"},
	} {
		code, _, errs := runCmd(c.args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
}

func TestQualityReportStoreUnreachable(t *testing.T) {
	url := "http://" + testutil.FreeAddr(t)
	code, _, errs := runCmd("quality", "report", "--url", url)
	if code != 1 || !strings.Contains(errs, "the store at "+url+" is unreachable") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

// A store that answers every query with nothing: no data in the period.
func TestQualityReportNoData(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "vector", "result": []any{}}})
	}))
	defer srv.Close()
	code, _, errs := runCmd("quality", "report", "--url", srv.URL, "--since", "2026-01-01T00:00:00Z", "--until", "2026-01-02T00:00:00Z")
	want := "no accepted or rejected items between 2026-01-01T00:00:00Z and 2026-01-02T00:00:00Z in the store at " + srv.URL
	if code != 1 || !strings.Contains(errs, want) {
		t.Errorf("exit %d, stderr %q; want %q", code, errs, want)
	}
}
