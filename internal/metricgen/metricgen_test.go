package metricgen

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pulse-otel/pulse/internal/catalog"
)

func TestFromCatalog(t *testing.T) {
	got := FromCatalog(map[string]int{"platform": 3, "event_type": 4}, "pulse.session.duration", "pulse.event.duration")
	assert.Equal(t, []Metric{
		{Name: "pulse.session.duration", Unit: "s", Kind: catalog.Histogram, Bounds: catalog.BoundsSeconds, Dims: []Dim{{Key: "platform", N: 3}}},
		{Name: "pulse.event.duration", Unit: "ms", Kind: catalog.Histogram, Bounds: catalog.BoundsMS, Dims: []Dim{{Key: "event_type", N: 4}, {Key: "category", N: 1}, {Key: "platform", N: 3}}},
	}, got)
	assert.Panics(t, func() { FromCatalog(nil, "pulse.nothing") })
}
