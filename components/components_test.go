package components

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/otelcol/otelcoltest"
	"go.yaml.in/yaml/v3"
)

// builderConfig is the part of ocb's configuration that lists components.
type builderConfig struct {
	Receivers  []module `yaml:"receivers"`
	Processors []module `yaml:"processors"`
	Exporters  []module `yaml:"exporters"`
	Extensions []module `yaml:"extensions"`
	Connectors []module `yaml:"connectors"`
}

type module struct {
	GoMod  string `yaml:"gomod"`
	Import string `yaml:"import"`
}

func (m module) importPath() string {
	if m.Import != "" {
		return m.Import
	}
	path, _, _ := strings.Cut(m.GoMod, " ")
	return path
}

// TestComponentsMatchBuilderConfig fails when components.go and
// builder-config.yaml list different components: the in-process factory set
// used by tests would then differ from the distribution users run.
func TestComponentsMatchBuilderConfig(t *testing.T) {
	raw, err := os.ReadFile("../builder-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg builderConfig
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("builder-config.yaml: %v", err)
	}
	var inBuilder []string
	for _, group := range [][]module{cfg.Receivers, cfg.Processors, cfg.Exporters, cfg.Extensions, cfg.Connectors} {
		for _, m := range group {
			inBuilder = append(inBuilder, m.importPath())
		}
	}

	file, err := parser.ParseFile(token.NewFileSet(), "components.go", nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	var inGo []string
	for _, imp := range file.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		// The component kinds' own packages are plumbing, not components.
		switch path {
		case "go.opentelemetry.io/collector/otelcol",
			"go.opentelemetry.io/collector/receiver",
			"go.opentelemetry.io/collector/processor",
			"go.opentelemetry.io/collector/exporter",
			"go.opentelemetry.io/collector/extension",
			"go.opentelemetry.io/collector/connector",
			"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry":
			continue
		}
		inGo = append(inGo, path)
	}
	slices.Sort(inBuilder)
	slices.Sort(inGo)
	if !slices.Equal(inBuilder, inGo) {
		t.Errorf("components.go and builder-config.yaml differ:\n  only in builder-config.yaml: %v\n  only in components.go: %v",
			minus(inBuilder, inGo), minus(inGo, inBuilder))
	}
}

func minus(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// TestComponentsBuild checks that every factory registers under its own type
// and that the Pulse components are present under the names users write.
func TestComponentsBuild(t *testing.T) {
	f, err := Components()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"analytics", "otlp"} {
		if _, ok := f.Receivers[mustType(t, name)]; !ok {
			t.Errorf("receiver %q missing", name)
		}
	}
	for _, name := range []string{"batch", "memory_limiter", "privacy"} {
		if _, ok := f.Processors[mustType(t, name)]; !ok {
			t.Errorf("processor %q missing", name)
		}
	}
	for _, name := range []string{"debug", "otlp", "otlphttp", "prometheus_remote_write", "promstore"} {
		if _, ok := f.Exporters[mustType(t, name)]; !ok {
			t.Errorf("exporter %q missing", name)
		}
	}
	if _, ok := f.Connectors[mustType(t, "analytics_metrics")]; !ok {
		t.Error("connector analytics_metrics missing")
	}
	for _, name := range []string{"file_storage", "bearertokenauth", "oidc", "health_check", "pprof", "forget", "audit"} {
		if _, ok := f.Extensions[mustType(t, name)]; !ok {
			t.Errorf("extension %q missing", name)
		}
	}
}

func mustType(t *testing.T, name string) component.Type {
	t.Helper()
	typ, err := component.NewType(name)
	if err != nil {
		t.Fatal(err)
	}
	return typ
}

// TestShippedConfigsLoad loads and validates every configuration under
// config/ with the distribution's factories, so `make run` cannot ship a
// broken default.
func TestShippedConfigsLoad(t *testing.T) {
	factories, err := Components()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("../config/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no configs found: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			if _, err := otelcoltest.LoadConfigAndValidate(file, factories); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
		})
	}
}
