package vault

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/ai-pantheon/aegis/domain"
)

// CheckOptions select what Check reads.
type CheckOptions struct {
	// ReadData also authenticates every chunk of every category: it reads and
	// decrypts the whole vault, one object per worker at a time. Without it the
	// data chunks are only checked to exist with their recorded sizes.
	ReadData bool
}

// Kinds of CheckProblem.
const (
	// ProblemMissing: a referenced object is not in the store.
	ProblemMissing = "missing"
	// ProblemTruncated: an object is shorter than the size its reference records.
	ProblemTruncated = "truncated"
	// ProblemSize: an object is longer than the size its reference records.
	ProblemSize = "size"
	// ProblemAuth: an object (or a data key) does not authenticate: its bytes were
	// altered, or it was replaced by another object, or moved.
	ProblemAuth = "auth"
	// ProblemLength: the chunks of a payload authenticate but hold another number
	// of bytes than the manifest records.
	ProblemLength = "length"
	// ProblemUnreadable: the header, the root or the manifest does not decode or
	// authenticate, so the categories cannot be listed, let alone checked.
	ProblemUnreadable = "unreadable"
	// ProblemPadding (a warning, not damage): objects have a size the padding
	// policy in use does not produce. The format allows it (a vault written under
	// one policy reads under any other), but those sizes say more about the
	// payloads than the policy means to.
	ProblemPadding = "padding"
)

// CheckProblem is one finding of Check.
type CheckProblem struct {
	// Category is the damaged category; "" for the header and the manifest.
	Category string `json:"category"`
	// Object is the object id (64 hex characters), when one object is at fault.
	Object string `json:"object,omitempty"`
	// Kind is one of the Problem constants.
	Kind string `json:"kind"`
	// Message says what is wrong, in a sentence.
	Message string `json:"message"`

	chunk int // for ordering: the chunk index, -1 for the header
}

// CheckReport is the result of Check. It names categories: keep it on the
// trusted side.
type CheckReport struct {
	// ReadData says whether the data chunks were authenticated (CheckOptions.ReadData).
	ReadData bool `json:"read_data"`
	// Epoch is the commit counter of the state that was checked (at least 1); 0
	// when the header or the manifest could not be read, so that the categories
	// were not checked.
	Epoch uint64 `json:"epoch"`
	// Categories is the number of categories checked.
	Categories int `json:"categories"`
	// Objects is the number of objects checked: the header, the manifest chunks
	// and the data chunks, missing ones included.
	Objects int `json:"objects"`
	// BytesRead is the sum of the sizes of the objects read.
	BytesRead uint64 `json:"bytes_read"`
	// Problems is the damage found, sorted by category and chunk. Empty when the
	// vault is sound.
	Problems []CheckProblem `json:"problems"`
	// Warnings are findings that are not damage (ProblemPadding).
	Warnings []CheckProblem `json:"warnings"`
	// Unreferenced is the number of objects in the store that this vault does not
	// reference: debris of interrupted writes, objects of writes under way, or
	// other vaults' objects on a shared store. They are not damage, and Check
	// deletes nothing. nil when unknown: the store cannot list (its List fails
	// with errors.ErrUnsupported), or the manifest could not be read.
	Unreferenced *int `json:"unreferenced"`
	// UnreferencedOwn is how many of them carry this vault's tag in their id: its
	// own debris and writes under way, which Sweep removes. The others belong to
	// other vaults, or were written before object ids carried a tag. nil when
	// Unreferenced is.
	UnreferencedOwn *int `json:"unreferenced_own"`
}

// Damaged reports whether Check found damage.
func (r CheckReport) Damaged() bool { return len(r.Problems) > 0 }

// DamagedCategories returns the sorted names of the damaged categories. A
// problem of the header or the manifest (Category "") is not among them.
func (r CheckReport) DamagedCategories() []string {
	var names []string
	for _, p := range r.Problems {
		if p.Category != "" {
			names = append(names, p.Category)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func (r *CheckReport) has(kind string) bool {
	return slices.ContainsFunc(r.Problems, func(p CheckProblem) bool { return p.Kind == kind })
}

// maxCheckAttempts bounds how often Check starts again because a writer committed
// while it ran.
const maxCheckAttempts = 8

// Check verifies the whole vault, as restic's check does a repository. It reads
// the header again and authenticates the root, then fetches every object the
// vault references — the manifest chunks and every chunk of every category — and
// checks that it exists with exactly the size its reference records. The manifest
// chunks are always authenticated; with opts.ReadData every data chunk is too,
// against its category's key and its position. Check does not stop at the first
// damaged category: the report names each one with every problem found.
//
// Objects are fetched in one random order over the whole vault (the store does
// not learn which objects belong together), by up to Config.Parallelism workers
// that each hold one object at a time: memory does not grow with the size of a
// category or of the vault.
//
// When the store can list, the report counts the objects this vault does not
// reference. Check never writes or deletes anything.
//
// Damage goes in the report; Check returns an error only when it could not run:
// the vault is closed, the store failed (other than by missing an object), the
// context ended, or another writer changed the passphrase. A writer that commits
// while Check runs is not damage: Check starts again on the state it committed.
// A vault whose header or manifest is damaged does not open: Open fails with
// ErrIntegrity.
func (v *Vault) Check(ctx context.Context, opts CheckOptions) (CheckReport, error) {
	if err := v.begin(); err != nil {
		return CheckReport{}, err
	}
	defer v.mu.Unlock()
	var (
		rep CheckReport
		ok  bool
	)
	for attempt := 1; ; attempt++ {
		var (
			ver domain.Version
			err error
		)
		rep, ver, ok, err = v.checkOnce(ctx, opts)
		if err != nil {
			return CheckReport{}, err
		}
		if !rep.has(ProblemMissing) || attempt >= maxCheckAttempts {
			break
		}
		// Objects of the state checked may have been collected by a writer that
		// committed meanwhile: if the header moved, check the new state instead.
		if _, now, err := v.store.GetVersioned(ctx, v.headerID); err != nil || now == ver {
			break
		}
	}
	if !ok {
		return rep, nil
	}
	n, own, err := v.countUnreferenced(ctx)
	switch {
	case errors.Is(err, errors.ErrUnsupported):
	case err != nil:
		return CheckReport{}, fmt.Errorf("aegis: check: listing the store: %w", err)
	default:
		rep.Unreferenced, rep.UnreferencedOwn = &n, &own
	}
	return rep, nil
}

// checkOnce checks the state the header names now. It returns the header version
// it read, and false when the header or the manifest could not be read (the
// categories were not checked).
func (v *Vault) checkOnce(ctx context.Context, opts CheckOptions) (CheckReport, domain.Version, bool, error) {
	rep := CheckReport{ReadData: opts.ReadData, Problems: []CheckProblem{}, Warnings: []CheckProblem{}}
	ver, ok, err := v.checkHeader(ctx, &rep)
	if err != nil || !ok {
		sortProblems(rep.Problems)
		return rep, ver, ok, err
	}
	rep.Epoch = v.root.epoch
	rep.Categories = len(v.man.categories)

	// One payload per category, plus the manifest.
	payloads := []*checkPayload{{
		what: "manifest", refs: v.root.manifest, size: v.root.size,
		aead: v.kek, ad: manifestAD(v.root.vaultID, v.root.manifestEpoch),
	}}
	for _, name := range v.man.sortedNames() {
		e := v.man.categories[name]
		p := &checkPayload{category: name, what: fmt.Sprintf("category %q", name), refs: e.chunks, size: e.size}
		if opts.ReadData {
			d, err := v.dek(e)
			if err != nil {
				if !errors.Is(err, domain.ErrIntegrity) {
					return CheckReport{}, ver, false, err
				}
				rep.Problems = append(rep.Problems, CheckProblem{Category: name, Kind: ProblemAuth, chunk: -1,
					Message: "the category's data key does not unwrap: its chunks cannot be authenticated"})
				p.bad.Store(true)
			} else {
				p.aead, p.ad = d, dataAD(v.root.vaultID, e)
			}
		}
		payloads = append(payloads, p)
	}
	var tasks []checkTask
	for _, p := range payloads {
		var off []int
		for i, ref := range p.refs {
			tasks = append(tasks, checkTask{p, i})
			if !v.policy.Allowed(int(ref.size)) {
				off = append(off, int(ref.size))
			}
		}
		if len(off) > 0 {
			slices.Sort(off)
			rep.Warnings = append(rep.Warnings, CheckProblem{Category: p.category, Kind: ProblemPadding, chunk: -1,
				Message: fmt.Sprintf("%d of %d objects of the %s have sizes the padding policy does not produce: %v", len(off), len(p.refs), p.what, slices.Compact(off))})
		}
	}
	if err := domain.Shuffle(v.random, len(tasks), func(i, j int) { tasks[i], tasks[j] = tasks[j], tasks[i] }); err != nil {
		return CheckReport{}, ver, false, err
	}
	found, objects, read, err := v.checkObjects(ctx, tasks)
	if err != nil {
		return CheckReport{}, ver, false, err
	}
	rep.Problems = append(rep.Problems, found...)
	rep.Objects += objects
	rep.BytesRead += read
	for _, p := range payloads {
		if p.aead == nil || p.bad.Load() {
			continue
		}
		if got := p.payload.Load(); got != p.size {
			rep.Problems = append(rep.Problems, CheckProblem{Category: p.category, Kind: ProblemLength, chunk: len(p.refs),
				Message: fmt.Sprintf("the chunks of the %s hold %d bytes, the manifest records %d", p.what, got, p.size)})
		}
	}
	sortProblems(rep.Problems)
	return rep, ver, true, nil
}

// checkHeader reads the header and checks it decodes and its root authenticates.
// If another writer committed since the vault last read it, it loads the state
// that writer committed (authenticating the manifest). It returns false when the
// vault cannot be read further.
func (v *Vault) checkHeader(ctx context.Context, rep *CheckReport) (domain.Version, bool, error) {
	id := v.headerID.String()
	bad := func(kind, msg string) (domain.Version, bool, error) {
		rep.Problems = append(rep.Problems, CheckProblem{Object: id, Kind: kind, Message: msg, chunk: -1})
		return "", false, nil
	}
	obj, ver, err := v.store.GetVersioned(ctx, v.headerID)
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return "", false, fmt.Errorf("aegis: check: vault header: %w", err)
	}
	rep.Objects++
	if err != nil {
		return bad(ProblemMissing, "the vault header is not in the store")
	}
	rep.BytesRead += uint64(len(obj))
	if !v.policy.Allowed(len(obj)) {
		rep.Warnings = append(rep.Warnings, CheckProblem{Object: id, Kind: ProblemPadding, chunk: -1,
			Message: fmt.Sprintf("the vault header is %d bytes, a size the padding policy does not produce", len(obj))})
	}
	h, err := decodeHeader(obj)
	if errors.Is(err, domain.ErrIntegrity) {
		return bad(ProblemUnreadable, err.Error())
	}
	if err != nil {
		return "", false, fmt.Errorf("aegis: check: %w", err)
	}
	if !bytes.Equal(h.fields, v.fields) {
		return "", false, fmt.Errorf("aegis: check: the passphrase was changed by another writer; open the vault again: %w", domain.ErrWrongPassphrase)
	}
	if ver != v.version {
		err := v.load(ctx, h, ver, len(obj))
		switch {
		case err == nil:
			return ver, true, nil
		case errors.Is(err, errMissing):
			rep.Problems = append(rep.Problems, CheckProblem{Kind: ProblemMissing, Message: err.Error(), chunk: -1})
			return ver, false, nil
		case errors.Is(err, domain.ErrIntegrity):
			return bad(ProblemUnreadable, err.Error())
		}
		return "", false, fmt.Errorf("aegis: check: %w", err)
	}
	// The state was read from this version already. Authenticate the root again
	// all the same: the stored bytes may have changed under an unchanged version.
	pt, err := v.kek.Open(nil, h.root, rootAD(v.headerID, h.fields))
	if err != nil {
		return bad(ProblemAuth, "the vault root does not authenticate")
	}
	if !bytes.Equal(pt, v.root.encode()) {
		return bad(ProblemUnreadable, "the vault root changed without a new header version")
	}
	return ver, true, nil
}

// checkPayload is one chunked payload being checked: the manifest or a category.
type checkPayload struct {
	category string // "" for the manifest
	what     string // for messages
	refs     []chunkRef
	size     uint64      // recorded plaintext bytes
	aead     domain.AEAD // nil: sizes only
	ad       adFunc

	payload atomic.Uint64 // plaintext bytes of the chunks that authenticated
	bad     atomic.Bool   // a chunk is damaged: the length is not checked
}

// checkTask is one object to check: chunk index of payload p.
type checkTask struct {
	p     *checkPayload
	index int
}

// checkObjects fetches and checks the objects of tasks, in the order given, with up
// to v.parallelism workers that each hold one object at a time. It returns the
// problems found, the number of objects read and their bytes, or the first error
// that is not a missing object.
func (v *Vault) checkObjects(ctx context.Context, tasks []checkTask) ([]CheckProblem, int, uint64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		problems []CheckProblem
		objects  int
		read     uint64
		firstErr error
		wg       sync.WaitGroup
		next     = make(chan checkTask)
	)
	for range min(v.parallelism, len(tasks)) {
		wg.Go(func() {
			for t := range next {
				prob, n, err := v.checkObject(ctx, t)
				mu.Lock()
				switch {
				case err != nil:
					if firstErr == nil {
						firstErr = err
						cancel()
					}
				case prob != nil:
					problems = append(problems, *prob)
					t.p.bad.Store(true)
				}
				if err == nil {
					objects++
					read += uint64(n)
				}
				mu.Unlock()
			}
		})
	}
feed:
	for _, t := range tasks {
		select {
		case next <- t:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return nil, 0, 0, firstErr
	}
	return problems, objects, read, nil
}

// checkObject fetches one object and checks its size and, when the payload has an
// AEAD, authenticates it. It returns the problem found (nil if none) and the
// number of bytes read.
func (v *Vault) checkObject(ctx context.Context, t checkTask) (*CheckProblem, int, error) {
	p, i := t.p, t.index
	ref := p.refs[i]
	problem := func(kind, format string, a ...any) *CheckProblem {
		msg := fmt.Sprintf("%s chunk %d of %d: ", p.what, i, len(p.refs)) + fmt.Sprintf(format, a...)
		return &CheckProblem{Category: p.category, Object: ref.id.String(), Kind: kind, Message: msg, chunk: i}
	}
	obj, err := v.store.Get(ctx, ref.id)
	if errors.Is(err, domain.ErrNotFound) {
		return problem(ProblemMissing, "the object is not in the store"), 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("aegis: check: %s chunk %d: %w", p.what, i, err)
	}
	switch n := len(obj); {
	case n < int(ref.size):
		return problem(ProblemTruncated, "the object is %d bytes, the manifest records %d", n, ref.size), n, nil
	case n > int(ref.size):
		return problem(ProblemSize, "the object is %d bytes, the manifest records %d", n, ref.size), n, nil
	}
	if p.aead == nil {
		return nil, len(obj), nil
	}
	payload, err := domain.OpenChunk(p.aead, obj, p.ad(ref.id, uint32(i), i == len(p.refs)-1))
	if err != nil {
		return problem(ProblemAuth, "the object does not authenticate (altered, replaced or moved)"), len(obj), nil
	}
	p.payload.Add(uint64(len(payload)))
	return nil, len(obj), nil
}

// countUnreferenced counts the objects in the store that the vault does not
// reference, and how many of those carry the vault's tag.
func (v *Vault) countUnreferenced(ctx context.Context) (n, own int, err error) {
	live := map[domain.ObjectID]struct{}{v.headerID: {}}
	for _, c := range v.root.manifest {
		live[c.id] = struct{}{}
	}
	for _, e := range v.man.categories {
		for _, c := range e.chunks {
			live[c.id] = struct{}{}
		}
	}
	key := ownershipKey(v.root.vaultID)
	err = v.store.List(ctx, func(id domain.ObjectID) error {
		if _, ok := live[id]; !ok {
			n++
			if owns(&key, id) {
				own++
			}
		}
		return nil
	})
	return n, own, err
}

// sortProblems orders problems by category (the header and manifest first), then
// chunk, then kind.
func sortProblems(ps []CheckProblem) {
	slices.SortStableFunc(ps, func(a, b CheckProblem) int {
		return cmp.Or(cmp.Compare(a.Category, b.Category), cmp.Compare(a.chunk, b.chunk), cmp.Compare(a.Kind, b.Kind))
	})
}
