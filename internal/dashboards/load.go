package dashboards

import (
	"go.yaml.in/yaml/v3"

	"github.com/pulse-otel/pulse/internal/seeddef"
)

var dashboardLoader = seeddef.Loader[Dashboard]{
	Kind:   dashboardKind,
	Decode: decodeValid,
	Check:  checkUnique,
	ID:     func(d Dashboard) string { return d.DashboardID },
}

// Load reads the dashboard definitions in paths (files, or every .yaml,
// .yml and .json file below a directory), validates them and returns them
// sorted by dashboardId. The error joins one *FieldError per problem.
func Load(paths ...string) ([]Dashboard, error) {
	return dashboardLoader.Load(paths...)
}

// Parse decodes and validates the definitions in b, read from file: one
// dashboard, a list of them, or a mapping whose only key is "dashboards".
func Parse(file string, b []byte) ([]Dashboard, []error) {
	return dashboardLoader.Parse(file, b)
}

// decodeValid decodes the dashboard n and, when that succeeds, validates it.
func decodeValid(file string, n *yaml.Node) (Dashboard, []error) {
	d, errs := decodeDashboard(file, n)
	if len(errs) == 0 {
		errs = d.validate()
	}
	return d, errs
}

func checkUnique(ds []Dashboard) []error {
	first := map[string]Dashboard{}
	var errs []error
	for _, d := range ds {
		if p, ok := first[d.DashboardID]; ok {
			errs = append(errs, d.fail(nil, d.Line, "dashboardId",
				"defined twice (first at %s:%d); the Grafana UID must be unique", p.File, p.Line))
			continue
		}
		first[d.DashboardID] = d
	}
	return errs
}
