package decoder

import (
	"strconv"
	"unsafe"
)

func itoa(i int) string { return strconv.Itoa(i) }

// arena hands out strings backed by large shared buffers, so one request's
// strings cost one allocation instead of one each. Bytes once handed out are
// never written again; a full buffer is replaced, not grown in place.
type arena struct{ buf []byte }

func (a *arena) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if cap(a.buf)-len(a.buf) < len(b) {
		a.buf = make([]byte, 0, max(4096, 2*cap(a.buf), len(b)))
	}
	start := len(a.buf)
	a.buf = append(a.buf, b...)
	return unsafe.String(&a.buf[start], len(b))
}
