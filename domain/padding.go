package domain

import (
	"fmt"
	"math/bits"
	"slices"
)

// KiB and MiB are byte counts.
const (
	KiB = 1 << 10
	MiB = 1 << 20
)

// PaddingPolicy decides the stored size of every object. A payload whose sealed
// form does not fit the largest size is split into several largest-size chunks.
type PaddingPolicy interface {
	// Size returns the stored size for an object whose sealed content needs n bytes,
	// and false when n exceeds Max().
	Size(n int) (int, bool)
	// Max is the largest object size; it is also the chunk size for large payloads.
	Max() int
	// Allowed reports whether size is a size this policy produces.
	Allowed(size int) bool
	// Chunks returns the number of chunks to store for a payload that needs k
	// largest-size chunks (k >= 1). Extra chunks carry no payload; padding the
	// count hides the exact size of large payloads.
	Chunks(k int) int
}

// DefaultBucketSizes are the sizes of stored objects: 1 KiB, 4 KiB, 16 KiB, 64 KiB, 256 KiB, 1 MiB.
var DefaultBucketSizes = []int{1 * KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, 1 * MiB}

// Buckets pads every object to the smallest of a fixed list of sizes. The chunk
// count of large payloads is rounded up with Padmé (at most about 12% extra).
type Buckets struct {
	sizes []int
}

// DefaultBuckets returns the default bucket policy.
func DefaultBuckets() Buckets {
	b, _ := NewBuckets(DefaultBucketSizes)
	return b
}

// MinObjectSize is the smallest object size a policy may produce: it must hold the
// sealing overhead, the frame header and the vault header.
const MinObjectSize = 512

// MaxObjectSize bounds every object a store is asked to hold.
const MaxObjectSize = 64 * MiB

// NewBuckets validates and returns a bucket policy. Sizes must be distinct and
// between MinObjectSize and MaxObjectSize.
func NewBuckets(sizes []int) (Buckets, error) {
	if len(sizes) == 0 {
		return Buckets{}, fmt.Errorf("%w: bucket list is empty", ErrInvalidInput)
	}
	s := slices.Clone(sizes)
	slices.Sort(s)
	for i, v := range s {
		if v < MinObjectSize || v > MaxObjectSize {
			return Buckets{}, fmt.Errorf("%w: bucket size %d is outside [%d, %d]", ErrInvalidInput, v, MinObjectSize, MaxObjectSize)
		}
		if i > 0 && s[i-1] == v {
			return Buckets{}, fmt.Errorf("%w: bucket size %d is listed twice", ErrInvalidInput, v)
		}
	}
	return Buckets{sizes: s}, nil
}

// Sizes returns a copy of the bucket sizes in increasing order.
func (b Buckets) Sizes() []int { return slices.Clone(b.sizes) }

// Size implements PaddingPolicy.
func (b Buckets) Size(n int) (int, bool) {
	for _, s := range b.sizes {
		if n <= s {
			return s, true
		}
	}
	return 0, false
}

// Max implements PaddingPolicy.
func (b Buckets) Max() int { return b.sizes[len(b.sizes)-1] }

// Allowed implements PaddingPolicy.
func (b Buckets) Allowed(size int) bool {
	_, ok := slices.BinarySearch(b.sizes, size)
	return ok
}

// Chunks implements PaddingPolicy with Padmé over the count.
func (b Buckets) Chunks(k int) int { return Padme(k) }

// Padme rounds n up as the Padmé scheme does (Nikitin et al., "Reducing Metadata
// Leakage from Encrypted Files and Communication with PURBs", PETS 2019): it keeps
// the top bits of n and zeroes the rest, so the rounded length leaks O(log log n)
// bits and the overhead is at most about 12%.
func Padme(n int) int {
	if n <= 2 {
		return n
	}
	e := bits.Len(uint(n)) - 1 // floor(log2 n)
	s := bits.Len(uint(e))     // floor(log2 e) + 1
	last := e - s
	mask := (1 << last) - 1
	return (n + mask) &^ mask
}

// PadmePolicy pads each object to its Padmé length, between a minimum and a maximum
// object size; larger payloads are chunked at Max.
type PadmePolicy struct {
	MinSize, MaxSize int
}

// DefaultPadme returns a Padmé policy from 1 KiB to 1 MiB.
func DefaultPadme() PadmePolicy { return PadmePolicy{MinSize: 1 * KiB, MaxSize: 1 * MiB} }

// Size implements PaddingPolicy.
func (p PadmePolicy) Size(n int) (int, bool) {
	if n > p.MaxSize {
		return 0, false
	}
	s := max(Padme(n), p.MinSize)
	return min(s, p.MaxSize), true
}

// Max implements PaddingPolicy.
func (p PadmePolicy) Max() int { return p.MaxSize }

// Allowed implements PaddingPolicy.
func (p PadmePolicy) Allowed(size int) bool {
	return size >= p.MinSize && size <= p.MaxSize && (Padme(size) == size || size == p.MinSize || size == p.MaxSize)
}

// Chunks implements PaddingPolicy.
func (p PadmePolicy) Chunks(k int) int { return Padme(k) }

var (
	_ PaddingPolicy = Buckets{}
	_ PaddingPolicy = PadmePolicy{}
)

// CheckPadding rejects a policy whose objects a reader would refuse: every size it
// produces must lie within [MinObjectSize, MaxObjectSize]. The Vault checks its
// policy before it writes anything, so a vault can never be written in a shape it
// cannot open again.
func CheckPadding(p PaddingPolicy) error {
	smallest, ok := p.Size(0)
	if !ok {
		return fmt.Errorf("%w: padding policy has no object size", ErrInvalidInput)
	}
	largest := p.Max()
	if smallest < MinObjectSize || largest > MaxObjectSize || largest < smallest {
		return fmt.Errorf("%w: padding policy sizes %d to %d are outside [%d, %d]", ErrInvalidInput, smallest, largest, MinObjectSize, MaxObjectSize)
	}
	return nil
}

// PaddingPlan is how a payload of PlaintextBytes is stored under a padding policy:
// how many objects of which size, and how many bytes the AEAD encrypts. The Vault
// seals every payload exactly as PlanPadding plans it.
type PaddingPlan struct {
	// PlaintextBytes is the payload length.
	PlaintextBytes int `json:"plaintext_bytes"`
	// Chunks is the number of stored objects, padding chunks included.
	Chunks int `json:"chunks"`
	// DataChunks is the number of chunks needed to hold the payload; Chunks is
	// DataChunks rounded up by the policy (Padmé for the built-in policies).
	DataChunks int `json:"data_chunks"`
	// ChunkSize is the size of every stored object of the payload.
	ChunkSize int `json:"chunk_size"`
	// PaddedBytes is the plaintext the AEAD encrypts: every chunk's frame (length
	// prefix, payload, zero padding), Chunks*(ChunkSize-overhead).
	PaddedBytes int `json:"padded_bytes"`
	// StoredBytes is what the store holds: Chunks*ChunkSize.
	StoredBytes int `json:"stored_bytes"`
}

// PlanPadding returns the plan for a payload of n bytes under policy p, sealed by
// an AEAD that adds overhead bytes to every object (nonce, commitment, tag: all an
// object holds beyond its frame; domain.AEAD's Overhead). A payload that fits one
// largest object is one object of the smallest size that holds it; a larger one
// becomes p.Chunks(k) objects of the largest size (at least k), where k is the
// number of chunks its bytes fill. Errors wrap ErrInvalidInput: a negative n or
// overhead, or a policy that has no size for the payload.
func PlanPadding(p PaddingPolicy, overhead, n int) (PaddingPlan, error) {
	if p == nil {
		return PaddingPlan{}, fmt.Errorf("%w: no padding policy", ErrInvalidInput)
	}
	if n < 0 {
		return PaddingPlan{}, fmt.Errorf("%w: negative payload length %d", ErrInvalidInput, n)
	}
	if overhead < 0 {
		return PaddingPlan{}, fmt.Errorf("%w: negative AEAD overhead %d", ErrInvalidInput, overhead)
	}
	if _, ok := p.Size(0); !ok {
		return PaddingPlan{}, fmt.Errorf("%w: padding policy has no object size", ErrInvalidInput)
	}
	capMax := FrameCapacity(p.Max(), overhead)
	if capMax <= 0 {
		return PaddingPlan{}, fmt.Errorf("%w: largest object size %d cannot hold a chunk with overhead %d", ErrInvalidInput, p.Max(), overhead)
	}
	plan := PaddingPlan{PlaintextBytes: n}
	if n <= capMax {
		size, ok := p.Size(overhead + FrameHeaderSize + n)
		if !ok || !p.Allowed(size) || FrameCapacity(size, overhead) < n {
			return PaddingPlan{}, fmt.Errorf("%w: padding policy has no size for a %d-byte payload", ErrInvalidInput, n)
		}
		plan.Chunks, plan.DataChunks, plan.ChunkSize = 1, 1, size
	} else {
		k := (n-1)/capMax + 1
		plan.DataChunks, plan.Chunks, plan.ChunkSize = k, max(p.Chunks(k), k), p.Max()
	}
	plan.PaddedBytes = plan.Chunks * (plan.ChunkSize - overhead)
	plan.StoredBytes = plan.Chunks * plan.ChunkSize
	return plan, nil
}
