package analyticsmetricsconnector

import (
	"syscall"
	"unsafe"
)

// madvCollapse is Linux's MADV_COLLAPSE (6.1 and later), which package
// syscall does not name.
const madvCollapse = 25

// adviseHuge asks Linux to back a large table with transparent huge pages
// (THP "madvise" mode, the common default): a probe at a random address of
// a 16 MB table then misses the TLB far less, which matters most in
// virtual machines, where a TLB miss walks two page tables. Memory the Go
// heap reuses is already mapped in small pages, so it is also collapsed
// now. Only hints: an older kernel or THP "never" refuses them, harmlessly.
func adviseHuge[T any](s []T) {
	var zero T
	n := uintptr(len(s)) * unsafe.Sizeof(zero)
	if n < hugeTableBytes {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), n)
	_ = syscall.Madvise(b, syscall.MADV_HUGEPAGE)
	_ = syscall.Madvise(b, madvCollapse)
}
