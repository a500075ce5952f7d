//go:build !unix

package httpserver

func openFileLimit() uint64 { return 0 }
