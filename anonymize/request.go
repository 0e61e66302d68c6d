package anonymize

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ai-pantheon/aegis/domain"
)

// Limits on the requests of a batch. Anything beyond them is rejected with an
// error wrapping domain.ErrInvalidInput before any stage runs.
const (
	// MaxBatchSize is the largest number of requests in one batch.
	MaxBatchSize = 1 << 16
	// MaxMetadataFields is the largest number of metadata fields of one request.
	MaxMetadataFields = 64
	// MaxMetadataKeyLen is the longest metadata field name, in bytes.
	MaxMetadataKeyLen = 128
	// MaxMetadataValueLen is the longest metadata value, in bytes.
	MaxMetadataValueLen = 4 * domain.KiB
)

// ChaffPrefix starts the category name of every dummy request made by the Chaff
// stage. Category names live only inside the encrypted manifest, so the prefix is
// never visible on the store. User categories may not start with it.
const ChaffPrefix = "aegis:chaff/"

// Request is one store request travelling through the pipeline.
type Request struct {
	// Category names the data; it never leaves the trusted side in clear.
	Category string
	// Payload is the content to store. Stages never modify its bytes.
	Payload []byte
	// Metadata is what a transport would send with the request.
	Metadata map[string]string
	// Timestamp is when the request was made; BucketTimestamp coarsens it.
	Timestamp time.Time
	// Token is the single-use privacy token attached by Authorize.
	Token []byte
	// Chaff marks a dummy request added by the Chaff stage.
	Chaff bool
	// Stripped lists, sorted, the metadata fields StripMetadata removed.
	Stripped []string
	// Plan is the padding plan computed by Pad.
	Plan *PadPlan
}

// Batch is a list of requests that travel, and are stored, together.
type Batch []Request

// Clone returns a copy of the batch whose requests own their metadata maps and
// slices of stripped field names. Payload bytes are shared: no stage writes them.
func (b Batch) Clone() Batch {
	if b == nil {
		return nil
	}
	out := make(Batch, len(b))
	for i, r := range b {
		out[i] = r
		out[i].Metadata = maps.Clone(r.Metadata)
		out[i].Stripped = slices.Clone(r.Stripped)
		out[i].Token = slices.Clone(r.Token)
		if r.Plan != nil {
			p := *r.Plan
			out[i].Plan = &p
		}
	}
	return out
}

// Categories returns the category names in batch order.
func (b Batch) Categories() []string {
	out := make([]string, len(b))
	for i, r := range b {
		out[i] = r.Category
	}
	return out
}

// Stage is one step of the pipeline. Apply returns the transformed batch and does
// not modify the batch it is given (it may share payload bytes with it).
type Stage interface {
	Name() string
	Apply(ctx context.Context, b Batch) (Batch, error)
}

// TokenSource is the port through which Authorize obtains privacy tokens: one
// fresh single-use token per call. It has the signature of domain.TokenSource,
// so every domain.TokenSource is one.
type TokenSource interface {
	Token(ctx context.Context) ([]byte, error)
}

// BatchTokenSource is implemented by sources that issue many tokens at once (as
// Privacy Pass issuers do); Authorize uses it when available.
type BatchTokenSource interface {
	TokenSource
	Tokens(ctx context.Context, n int) ([][]byte, error)
}

// Validate checks a batch against the rules every stage relies on: at least one
// request, at most MaxBatchSize; valid, distinct category names not in the
// reserved chaff namespace (unless the request is chaff); metadata within the
// limits, in valid UTF-8. Errors wrap domain.ErrInvalidInput and name the request.
func Validate(b Batch) error {
	if len(b) == 0 {
		return fmt.Errorf("%w: empty batch", domain.ErrInvalidInput)
	}
	if len(b) > MaxBatchSize {
		return fmt.Errorf("%w: batch of %d requests, the limit is %d", domain.ErrInvalidInput, len(b), MaxBatchSize)
	}
	seen := make(map[string]int, len(b))
	for i, r := range b {
		if err := domain.ValidateCategory(r.Category); err != nil {
			return fmt.Errorf("request %d: %w", i, err)
		}
		if !r.Chaff && strings.HasPrefix(r.Category, ChaffPrefix) {
			return fmt.Errorf("%w: request %d: category names starting with %q are reserved", domain.ErrInvalidInput, i, ChaffPrefix)
		}
		if j, dup := seen[r.Category]; dup {
			return fmt.Errorf("%w: requests %d and %d have the same category %q", domain.ErrInvalidInput, j, i, r.Category)
		}
		seen[r.Category] = i
		if err := validateMetadata(r.Metadata); err != nil {
			return fmt.Errorf("request %d (category %q): %w", i, r.Category, err)
		}
	}
	return nil
}

func validateMetadata(md map[string]string) error {
	if len(md) > MaxMetadataFields {
		return fmt.Errorf("%w: %d metadata fields, the limit is %d", domain.ErrInvalidInput, len(md), MaxMetadataFields)
	}
	for k, v := range md {
		switch {
		case k == "" || len(k) > MaxMetadataKeyLen:
			return fmt.Errorf("%w: metadata field name of %d bytes, allowed 1 to %d", domain.ErrInvalidInput, len(k), MaxMetadataKeyLen)
		case !utf8.ValidString(k):
			return fmt.Errorf("%w: metadata field name %q is not valid UTF-8", domain.ErrInvalidInput, k)
		case len(v) > MaxMetadataValueLen:
			return fmt.Errorf("%w: metadata field %q has a value of %d bytes, the limit is %d", domain.ErrInvalidInput, k, len(v), MaxMetadataValueLen)
		case !utf8.ValidString(v):
			return fmt.Errorf("%w: metadata field %q has a binary (non-UTF-8) value", domain.ErrInvalidInput, k)
		}
	}
	return nil
}

// Pipeline runs stages in order. It is itself a Stage, so pipelines compose.
type Pipeline struct {
	stages []Stage
}

// NewPipeline returns a pipeline of the given stages; nil stages are skipped.
func NewPipeline(stages ...Stage) *Pipeline {
	p := &Pipeline{}
	for _, s := range stages {
		if s != nil {
			p.stages = append(p.stages, s)
		}
	}
	return p
}

// Stages returns the stages in order.
func (p *Pipeline) Stages() []Stage { return slices.Clone(p.stages) }

// Name implements Stage.
func (p *Pipeline) Name() string {
	names := make([]string, len(p.stages))
	for i, s := range p.stages {
		names[i] = s.Name()
	}
	return "pipeline(" + strings.Join(names, ",") + ")"
}

// Apply validates the batch, then runs every stage on the output of the previous
// one. An error names the stage that failed.
func (p *Pipeline) Apply(ctx context.Context, b Batch) (Batch, error) {
	if err := Validate(b); err != nil {
		return nil, err
	}
	for _, s := range p.stages {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var err error
		if b, err = s.Apply(ctx, b); err != nil {
			return nil, fmt.Errorf("anonymize: stage %s: %w", s.Name(), err)
		}
	}
	return b, nil
}

var _ Stage = (*Pipeline)(nil)
