// Package testutil holds the few helpers that component tests share: a free
// loopback address, a host that offers extensions, and loading and
// comparing a component's configurations from its testdata.
package testutil // import "github.com/pulse-otel/pulse/internal/testutil"

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

// host is a nop host that offers the given extensions.
type host struct {
	component.Host
	ext map[component.ID]component.Component
}

func (h host) GetExtensions() map[component.ID]component.Component { return h.ext }

// Host returns a component.Host whose GetExtensions returns ext.
func Host(ext map[component.ID]component.Component) component.Host {
	return host{Host: componenttest.NewNopHost(), ext: ext}
}

// LoadConfig unmarshals the section of the YAML file at path named by id
// into cfg (a component's default config) and returns cfg's validation
// error, as the collector would when it loads that component.
func LoadConfig(t testing.TB, path string, id component.ID, cfg component.Config) error {
	t.Helper()
	cm, err := confmaptest.LoadConf(path)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := cm.Sub(id.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.Unmarshal(cfg); err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	return confmap.Validate(cfg)
}

// ConfigCase is a configuration section of a test file and the config it
// must load into.
type ConfigCase struct {
	ID       component.ID
	Expected component.Config
}

// CheckConfigs loads each case's section of the YAML file at path into a
// fresh default config (newDefault), as the collector would, and requires
// it to be valid and equal to the case's Expected.
func CheckConfigs(t *testing.T, path string, newDefault func() component.Config, cases ...ConfigCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.ID.String(), func(t *testing.T) {
			cfg := newDefault()
			require.NoError(t, LoadConfig(t, path, c.ID, cfg))
			assert.Equal(t, c.Expected, cfg)
		})
	}
}
