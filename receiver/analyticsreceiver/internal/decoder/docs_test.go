package decoder

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pulse-otel/pulse/internal/docstest"
	"github.com/pulse-otel/pulse/internal/schema"
)

// The documentation is part of the contract: docs/events.md is what app
// teams and OTLP senders write code against, docs/metrics.md what dashboards
// and alerts are built on. These tests fail when the schema tables in
// spec.go gain a field, an attribute key or a metric the documents do not
// mention, and when an example in docs/events.md stops being valid.

const docsDir = "../../../../docs"

func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(docsDir, name))
	if err != nil {
		t.Fatalf("read docs/%s: %v", name, err)
	}
	return string(b)
}

// docFields lists every field of a spec: the flat list (every field of the
// root and of nested objects) and the fields of objects inside arrays
// (errorMetrics.errorTypes[].type), which have no slot.
func docFields(sp *spec) []*field {
	var out []*field
	var inArrays func(o *object)
	inArrays = func(o *object) {
		for i := range o.fields {
			f := &o.fields[i]
			out = append(out, f)
			if f.obj != nil {
				inArrays(f.obj)
			}
		}
	}
	for _, f := range sp.flat {
		out = append(out, f)
		if f.kind == kindObjects {
			inArrays(f.obj)
		}
	}
	return out
}

func TestDocsEventsMentionsEveryFieldAndKey(t *testing.T) {
	doc := readDoc(t, "events.md")
	for k, sp := range specs {
		kind := Kind(k)
		title := "POST /v1/" + kind.String()
		sec := docstest.Section(doc, title)
		if sec == "" {
			t.Errorf("docs/events.md has no section %q", "## "+title)
			continue
		}
		var missing []string
		if !strings.Contains(sec, `"`+sp.wrapper+`"`) {
			missing = append(missing, "wrapper key \""+sp.wrapper+"\"")
		}
		for _, f := range docFields(sp) {
			if !strings.Contains(sec, docstest.Code(f.path)) {
				missing = append(missing, "JSON field "+docstest.Code(f.path))
			}
			switch f.role {
			case roleAttr, roleResource, roleDim:
				if !strings.Contains(sec, docstest.Code(f.key)) {
					missing = append(missing, "OTel key "+docstest.Code(f.key)+" (of "+f.path+")")
				}
			}
			if f.metric != nil && !strings.Contains(sec, docstest.Code(f.metric.def.Name)) {
				missing = append(missing, "metric "+docstest.Code(f.metric.def.Name)+" (of "+f.path+")")
			}
		}
		if len(missing) > 0 {
			t.Errorf("docs/events.md section %q does not mention:\n  %s", title, strings.Join(missing, "\n  "))
		}
	}

	var missing []string
	for _, s := range []string{
		ScopeName,
		schema.EventAnalytics,
		schema.EventRecommendation,
		schema.EventRecommendationResponse,
		schema.AttrIsValid,
		schema.AttrQualityScore,
		schema.AttrProcessingStatus,
		schema.AttrIsAnonymized,
		schema.ProcessingStatusProcessed,
	} {
		if !strings.Contains(doc, docstest.Code(s)) {
			missing = append(missing, docstest.Code(s))
		}
	}
	if len(missing) > 0 {
		t.Errorf("docs/events.md does not mention: %s", strings.Join(missing, ", "))
	}
}

// docsExampleNow is the server clock the examples of docs/events.md are
// checked against: one minute after their 1764000000000.
var docsExampleNow = time.UnixMilli(1764000000000 + 60_000)

var exampleRE = regexp.MustCompile("(?s)<!-- example: (/v1/[a-z-]+) -->\n```json\n(.*?)```")

func TestDocsExamplesAreValid(t *testing.T) {
	doc := readDoc(t, "events.md")
	seen := map[string]bool{}
	d := New(Options{})
	for _, m := range exampleRE.FindAllStringSubmatch(doc, -1) {
		path, body := m[1], m[2]
		kind := -1
		for k := range specs {
			if "/v1/"+Kind(k).String() == path {
				kind = k
			}
		}
		if kind < 0 {
			t.Errorf("docs/events.md: example for unknown endpoint %s", path)
			continue
		}
		seen[path] = true
		res, err := d.Decode(Kind(kind), []byte(body), docsExampleNow)
		if err != nil {
			t.Errorf("docs/events.md: example for %s: %v", path, err)
			continue
		}
		if len(res.Rejected) > 0 || res.Accepted == 0 {
			t.Errorf("docs/events.md: example for %s: %d accepted, rejected %+v", path, res.Accepted, res.Rejected)
		}
	}
	for k := range specs {
		if path := "/v1/" + Kind(k).String(); !seen[path] {
			t.Errorf("docs/events.md has no example for %s (a ```json block after <!-- example: %s -->)", path, path)
		}
	}
}
