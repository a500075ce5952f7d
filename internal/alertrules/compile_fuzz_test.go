package alertrules

import (
	"bytes"
	"testing"
)

// FuzzAcceptedDefinitionsCompile feeds arbitrary bytes to the definition
// loader that `pulsectl rules compile` and `pulsectl rules sync` read. A
// file the loader accepts without error must compile into rule groups that
// Prometheus's own parser accepts (CompileRules checks with rulefmt.Parse),
// and the same definitions must always compile to the same bytes, so that
// a sync of unchanged definitions changes nothing.
func FuzzAcceptedDefinitionsCompile(f *testing.F) {
	addDefinitionSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		rules, errs := parseFile("fuzz.yaml", b)
		if len(errs) > 0 || len(rules) == 0 {
			return
		}
		if errs := checkUnique(rules); len(errs) > 0 {
			return
		}
		groups, err := CompileRules(rules)
		if err != nil {
			t.Fatalf("accepted definitions do not compile: %v\n%s", err, b)
		}
		out, err := MarshalRules(groups)
		if err != nil {
			t.Fatalf("compiled groups do not marshal: %v", err)
		}
		again, err := CompileRules(rules)
		if err != nil {
			t.Fatal(err)
		}
		if out2, _ := MarshalRules(again); !bytes.Equal(out, out2) {
			t.Fatal("the same definitions compiled to different bytes")
		}
	})
}
