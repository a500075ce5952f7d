package privacyprocessor

import (
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/pulse-otel/pulse/internal/pii"
	"github.com/pulse-otel/pulse/internal/schema"
)

// FuzzKeys puts fuzzed keys into the metadata map of an analytics event
// and checks what the processor promises for keys: with the default mask
// action no member is lost (masked keys are renamed, never merged), and
// no PII value found in a key before is found in any key after.
func FuzzKeys(f *testing.F) {
	for _, s := range []string{
		"jane@example.com\x00plain",
		"[REDACTED:email]\x00jane@example.com\x00john@example.com",
		"call +4915123632299\x00mac 3c:22:fb:1a:9e:07\x00jane%40example.com",
		"password=hunter2!xyz\x00\x00#2",
		"[REDACTED:email]#2\x00[REDACTED:email]\x00a@example.org",
	} {
		f.Add(s)
	}
	p := newTest(f, nil)
	sc, err := pii.New(pii.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, joined string) {
		keys := map[string]bool{}
		for _, k := range strings.Split(joined, "\x00") {
			keys[k] = true
		}
		ld := plog.NewLogs()
		lr := analyticsEvent(ld, "full", nil)
		md := lr.Attributes().PutEmptyMap(schema.AttrMetadata)
		found := map[string]bool{}
		for k := range keys {
			md.PutStr(k, "192.0.2.1") // an address: kept (truncated) even under an IP member name
			for _, m := range sc.Scan(nil, k) {
				found[k[m.Start:m.End]] = true
			}
		}
		in := md.Len()
		out := run(t, p, ld)
		if out.LogRecordCount() != 1 {
			return // dropped whole, e.g. an identifier rule; nothing to check
		}
		v, ok := only(t, out).Get(schema.AttrMetadata)
		if !ok || v.Type() != pcommon.ValueTypeMap {
			t.Fatalf("metadata removed")
		}
		got := v.Map()
		if got.Len() != in {
			t.Fatalf("%d members in, %d out: a masked key must not merge or lose a member", in, got.Len())
		}
		for k := range got.All() {
			for _, m := range sc.Scan(nil, k) {
				if found[k[m.Start:m.End]] {
					t.Fatalf("key %q still holds %s %q", k, m.Type, k[m.Start:m.End])
				}
			}
		}
	})
}
