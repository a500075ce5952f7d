package decoder

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Regenerate with: go test -run TestGolden -update ./receiver/analyticsreceiver/internal/decoder/
// (the run fails once, as golden.Write* does, to remind that files changed),
// then read the diff of testdata/*/expected.yaml.
var update = flag.Bool("update", false, "rewrite testdata/<endpoint>/expected.yaml from the decoder's output")

// TestGolden decodes testdata/<endpoint>/input.json at testNow and compares
// the pdata with testdata/<endpoint>/expected.yaml.
func TestGolden(t *testing.T) {
	wantAccepted := map[Kind]int{Events: 6, Recommendations: 3, ModelMetrics: 2, BusinessMetrics: 3, SystemMetrics: 2}
	for _, k := range kinds() {
		t.Run(k.String(), func(t *testing.T) {
			dir := filepath.Join("testdata", k.String())
			body, err := os.ReadFile(filepath.Join(dir, "input.json"))
			if err != nil {
				t.Fatal(err)
			}
			res, err := New(Options{}).Decode(k, body, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rejected) != 0 || res.Accepted != wantAccepted[k] {
				t.Fatalf("Accepted=%d (want %d) Rejected=%+v", res.Accepted, wantAccepted[k], res.Rejected)
			}
			expectedFile := filepath.Join(dir, "expected.yaml")
			if k.IsLogs() {
				if *update {
					if err := golden.WriteLogs(t, expectedFile, res.Logs); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := golden.ReadLogs(expectedFile)
				if err != nil {
					t.Fatal(err)
				}
				if err := plogtest.CompareLogs(want, res.Logs); err != nil {
					t.Error(err)
				}
				// CompareLogs does not look at event names.
				if got, want := eventNames(res.Logs), eventNames(want); !reflect.DeepEqual(got, want) {
					t.Errorf("event names %v, want %v", got, want)
				}
				return
			}
			if *update {
				if err := golden.WriteMetrics(t, expectedFile, res.Metrics, golden.SkipMetricTimestampNormalization()); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := golden.ReadMetrics(expectedFile)
			if err != nil {
				t.Fatal(err)
			}
			if res.Items != want.DataPointCount() {
				t.Errorf("Items = %d, golden file has %d points", res.Items, want.DataPointCount())
			}
			// The golden writer sorts metrics and points; their order carries
			// no meaning.
			if err := pmetrictest.CompareMetrics(want, res.Metrics,
				pmetrictest.IgnoreResourceMetricsOrder(),
				pmetrictest.IgnoreMetricsOrder(),
				pmetrictest.IgnoreMetricDataPointsOrder(),
			); err != nil {
				t.Error(err)
			}
		})
	}
}

func eventNames(ld plog.Logs) []string {
	var out []string
	for _, lr := range logRecords(ld) {
		out = append(out, lr.EventName())
	}
	return out
}
