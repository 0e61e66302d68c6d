package anonymize

import (
	"context"
	"fmt"
	"slices"

	"github.com/ai-pantheon/aegis/domain"
)

// DefaultOverhead is the number of bytes the Vault's AEAD adds to every object
// (crypto/aead: 12-byte nonce, 32-byte key commitment, 16-byte tag).
const DefaultOverhead = 60

// PadPlan is how a payload will be stored: the Vault pads and seals it exactly so.
type PadPlan struct {
	// PlaintextBytes is the payload length.
	PlaintextBytes int `json:"plaintext_bytes"`
	// Chunks is the number of stored objects, padding chunks included.
	Chunks int `json:"chunks"`
	// DataChunks is the number of chunks needed to hold the payload; Chunks is
	// DataChunks rounded up by the policy (Padmé for the default buckets).
	DataChunks int `json:"data_chunks"`
	// ChunkSize is the size of every stored object of this payload.
	ChunkSize int `json:"chunk_size"`
	// PaddedBytes is the plaintext the AEAD encrypts: every chunk's frame (length
	// prefix, payload, zero padding), Chunks*(ChunkSize-overhead).
	PaddedBytes int `json:"padded_bytes"`
	// StoredBytes is what the store holds: Chunks*ChunkSize.
	StoredBytes int `json:"stored_bytes"`
}

// Planner computes padding plans for a policy and an AEAD overhead.
type Planner struct {
	// Policy decides object sizes; nil means domain.DefaultBuckets(). It must be
	// the policy of the Vault that stores the data.
	Policy domain.PaddingPolicy
	// Overhead is the AEAD overhead; 0 means DefaultOverhead.
	Overhead int
}

// defaultBuckets is domain.DefaultBuckets(), built once; a Buckets value is
// read-only, so sharing it is safe.
var defaultBuckets domain.PaddingPolicy = domain.DefaultBuckets()

func (p Planner) policy() domain.PaddingPolicy {
	if p.Policy == nil {
		return defaultBuckets
	}
	return p.Policy
}

func (p Planner) overhead() int {
	if p.Overhead == 0 {
		return DefaultOverhead
	}
	return p.Overhead
}

// Plan returns the plan for a payload of n bytes, computed as the Vault's
// sealing does: a payload that fits one largest object is one object of the
// smallest allowed size; a larger one becomes Chunks(k) largest objects.
func (p Planner) Plan(n int) (PadPlan, error) {
	if n < 0 {
		return PadPlan{}, fmt.Errorf("%w: negative payload length %d", domain.ErrInvalidInput, n)
	}
	pol, ovh := p.policy(), p.overhead()
	if ovh < 0 {
		return PadPlan{}, fmt.Errorf("%w: negative AEAD overhead %d", domain.ErrInvalidInput, ovh)
	}
	capMax := domain.FrameCapacity(pol.Max(), ovh)
	if capMax <= 0 {
		return PadPlan{}, fmt.Errorf("%w: largest object size %d cannot hold a chunk with overhead %d", domain.ErrInvalidInput, pol.Max(), ovh)
	}
	plan := PadPlan{PlaintextBytes: n}
	if n <= capMax {
		size, ok := pol.Size(ovh + domain.FrameHeaderSize + n)
		if !ok || !pol.Allowed(size) || domain.FrameCapacity(size, ovh) < n {
			return PadPlan{}, fmt.Errorf("%w: padding policy has no size for a %d-byte payload", domain.ErrInvalidInput, n)
		}
		plan.Chunks, plan.DataChunks, plan.ChunkSize = 1, 1, size
	} else {
		k := (n-1)/capMax + 1
		plan.DataChunks, plan.Chunks, plan.ChunkSize = k, max(pol.Chunks(k), k), pol.Max()
	}
	plan.PaddedBytes = plan.Chunks * (plan.ChunkSize - ovh)
	plan.StoredBytes = plan.Chunks * plan.ChunkSize
	return plan, nil
}

// Pad computes the padding plan of every request and attaches it as Request.Plan.
// The Vault does the padding itself when it seals; this stage makes the plan
// visible (for the report) and rejects a payload the policy cannot hold.
type Pad struct {
	Planner
}

// Name implements Stage.
func (Pad) Name() string { return "pad" }

// Apply implements Stage.
func (s Pad) Apply(ctx context.Context, b Batch) (Batch, error) {
	out := make(Batch, len(b))
	plans := make([]PadPlan, len(b))
	for i, r := range b {
		var err error
		if plans[i], err = s.Plan(len(r.Payload)); err != nil {
			return nil, fmt.Errorf("request %d: %w", i, err)
		}
		out[i] = r
		out[i].Plan = &plans[i]
	}
	return out, nil
}

// Buckets returns the default object sizes (domain.DefaultBucketSizes).
func Buckets() []int { return slices.Clone(domain.DefaultBucketSizes) }

// PadToBucket frames b (a 4-byte big-endian length, b, zero bytes) into a buffer
// of the smallest default bucket size that holds it. Unpad reverses it. It is the
// framing the Vault seals, without the encryption.
func PadToBucket(b []byte) ([]byte, error) {
	size, ok := defaultBuckets.Size(domain.FrameHeaderSize + len(b))
	if !ok {
		return nil, fmt.Errorf("%w: %d bytes do not fit the largest bucket (%d bytes with a %d-byte header)", domain.ErrInvalidInput, len(b), defaultBuckets.Max(), domain.FrameHeaderSize)
	}
	frame := make([]byte, size)
	domain.EncodeFrame(frame, b)
	return frame, nil
}

// Unpad returns the payload of a frame made by PadToBucket. It rejects a frame
// whose size is not a default bucket size, a length beyond the frame, or padding
// that is not all zeros (errors wrap domain.ErrIntegrity). The result aliases frame.
func Unpad(frame []byte) ([]byte, error) {
	if !defaultBuckets.Allowed(len(frame)) {
		return nil, fmt.Errorf("%w: %d bytes is not a bucket size", domain.ErrIntegrity, len(frame))
	}
	return domain.DecodeFrame(frame)
}
