// Package testutil holds the few helpers that component tests share: a free
// loopback address and a host that offers extensions.
package testutil // import "github.com/pulse-otel/pulse/internal/testutil"

import (
	"net"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
)

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

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
