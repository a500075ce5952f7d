package dashboards

// Internals the external tests (package dashboards_test) use. Those tests
// import promstoreexporter, which imports this package through the live
// page: an internal test doing so would be an import cycle.
var (
	LoadBuiltin = loadBuiltin
	UnitMax     = unitMax
)

func Deref[T any](p *T) T { return deref(p) }
