package decoder

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFieldLabel(t *testing.T) {
	sp := specs[SystemMetrics]
	for path, want := range map[string]string{
		"errorMetrics.errorTypes[3].type":  "errorMetrics.errorTypes[].type",
		"errorMetrics.errorTypes[12]":      "errorMetrics.errorTypes",
		"errorMetrics.errorTypes[]":        "errorMetrics.errorTypes",
		"responseTime.p95":                 "responseTime.p95",
		"responseTime.jane@example.com":    "",
		"":                                 "",
		"errorMetrics.errorTypes[x].type":  "",
		"errorMetrics.errorTypes[3].type]": "",
	} {
		assert.Equal(t, want, sp.fieldLabel(path), path)
	}
	assert.Equal(t, -1, sp.platform, "system snapshots have no platform enum")
	assert.GreaterOrEqual(t, specs[Events].platform, 0)
}

func TestPlatformName(t *testing.T) {
	assert.Equal(t, "web", PlatformName(0))
	assert.Equal(t, "unknown", PlatformName(PlatformUnknown))
	assert.Equal(t, "unknown", PlatformName(-1))
	assert.Equal(t, "unknown", Rejection{}.Platform())
	assert.Equal(t, FieldOther, Rejection{}.Field())
}
