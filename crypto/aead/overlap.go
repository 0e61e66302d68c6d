package aead

import "unsafe"

// anyOverlap reports whether x and y share memory at any (not necessarily
// corresponding) index. Seal uses it to refuse buffers that would be silently
// corrupted, as crypto/internal/fips140/alias does for the standard library.
func anyOverlap(x, y []byte) bool {
	return len(x) > 0 && len(y) > 0 &&
		uintptr(unsafe.Pointer(&x[0])) <= uintptr(unsafe.Pointer(&y[len(y)-1])) &&
		uintptr(unsafe.Pointer(&y[0])) <= uintptr(unsafe.Pointer(&x[len(x)-1]))
}
