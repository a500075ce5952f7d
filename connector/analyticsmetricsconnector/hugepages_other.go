//go:build !linux

package analyticsmetricsconnector

// adviseHuge is a no-op where there are no transparent huge pages.
func adviseHuge[T any](s []T) {}
