package dashboards

import (
	"slices"
	"strings"
)

// grafanaUnits are the Grafana unit ids a panel may use: the ones the KPI
// units map to and the common ones a custom widget needs. Grafana also takes
// "suffix:TEXT", "prefix:TEXT", "si:TEXT" and "count:TEXT" custom units.
var grafanaUnits = []string{
	"none", "short", "percent", "percentunit",
	"ns", "µs", "ms", "s", "m", "h", "d", "dtdurations", "dtdurationms",
	"bytes", "decbytes", "bits", "Bps", "binBps",
	"reqps", "rps", "wps", "iops", "cps", "ops", "opm", "rpm",
	"currencyUSD", "currencyEUR", "currencyGBP",
	"bool", "bool_yes_no",
}

// ValidUnit reports whether u is a Grafana unit id (or a custom unit).
func ValidUnit(u string) bool {
	for _, p := range []string{"suffix:", "prefix:", "si:", "count:"} {
		if rest, ok := strings.CutPrefix(u, p); ok {
			return rest != ""
		}
	}
	return slices.Contains(grafanaUnits, u)
}

// grafanaUnit maps a KPI registry unit (UCUM style) to a Grafana unit id:
// ratios to percentunit, durations to their time unit, per-second rates of
// requests to reqps and of anything else to a "/s" suffix, counts to short.
func grafanaUnit(ucum string) string {
	switch ucum {
	case "1":
		return "percentunit"
	case "%":
		return "percent"
	case "s", "ms":
		return ucum
	case "{request}/s":
		return "reqps"
	case "":
		return "none"
	}
	if thing, ok := strings.CutSuffix(ucum, "/s"); ok {
		return "suffix:" + strings.Trim(thing, "{}") + "s/s"
	}
	return "short"
}

// unitMax is the largest value a unit allows, from 0: ratios within
// [0, 1], percentages within [0, 100]; ok is false for units without one.
func unitMax(u string) (hi float64, ok bool) {
	switch u {
	case "percentunit":
		return 1, true
	case "percent":
		return 100, true
	}
	return 0, false
}
