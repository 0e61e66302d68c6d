package benchmarks

import (
	"fmt"
	"testing"

	"github.com/ai-pantheon/aegis/crypto/aead"
	"github.com/ai-pantheon/aegis/domain"
)

// objectSizes are the stored object sizes the chunk benchmarks run at: every
// default bucket size (1, 4, 16, 64, 256 KiB and 1 MiB). The payload of each
// is FrameCapacity(size, aead.Overhead): the largest payload that fills an
// object of that size exactly, so no padding is zeroed and every variant
// processes the same number of payload bytes.
var objectSizes = domain.DefaultBucketSizes

// sizeName renders a byte count as the sub-benchmark names use it: 1KiB, 1MiB.
func sizeName(n int) string {
	switch {
	case n >= domain.MiB && n%domain.MiB == 0:
		return fmt.Sprintf("%dMiB", n/domain.MiB)
	case n >= domain.KiB && n%domain.KiB == 0:
		return fmt.Sprintf("%dKiB", n/domain.KiB)
	default:
		return fmt.Sprintf("%dB", n)
	}
}

// payloadFor returns the payload length that fills an object of size bytes.
func payloadFor(size int) int { return domain.FrameCapacity(size, aead.Overhead) }

// pattern returns n bytes of a deterministic non-zero pattern.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 1)
	}
	return b
}

// chunkAD is associated data of the length the Vault binds a data chunk to:
// label (13) + vault id (32) + slot (16) + generation (4) + version (8) +
// index (4) + final flag (1) = 78 bytes.
var chunkAD = func() []byte {
	b := []byte("aegis/v1 data")
	return append(b, make([]byte, 78-len(b))...)
}()

// reportOpsPerSec adds an ops/s metric. Call it after the b.Loop loop, when b.N
// holds the iteration count and the timer is stopped.
func reportOpsPerSec(b *testing.B) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "ops/s")
	}
}
