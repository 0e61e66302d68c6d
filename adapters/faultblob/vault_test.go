package faultblob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/ai-pantheon/aegis/adapters/faultblob"
	"github.com/ai-pantheon/aegis/adapters/fsblob"
	"github.com/ai-pantheon/aegis/adapters/memblob"
	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// The fault matrix: every write the Vault and the Cloak offer, on memblob and
// fsblob, with and without their Batcher, is run once cleanly to count the store
// operations it makes, and then once per operation N with a fault at N:
//
//   - Fail (the operation never happens): the call succeeds and the new state is
//     fully visible, or it fails with the injected error and a fresh Open sees
//     exactly the previous state;
//   - FailAfterApply (it happens, the caller sees an error): the same, except that
//     a failed call may have left exactly the new state;
//   - ShortRead of the Nth read: never wrong data; an error wraps ErrIntegrity.
//
// After every run the handle that saw the fault still reads what a fresh Open
// reads, and the store holds no object the vault does not reference unless the
// fault hit a deletion (garbage that Sweep then removes).

const (
	oldPass = "old passphrase"
	newPass = "new passphrase"
)

// policy keeps objects small so that a few KiB make a multi-chunk category.
func policy(t testing.TB) domain.PaddingPolicy {
	p, err := domain.NewBuckets([]int{512, 1024, 2048})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func payload(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

type state = map[string][]byte

// backend is an inner store and the shape the Vault sees.
type backend struct {
	name string
	open func(t *testing.T) domain.BlobStore
	opts faultblob.Options
}

func backends() []backend {
	mem := func(*testing.T) domain.BlobStore { return memblob.Open() }
	fs := func(t *testing.T) domain.BlobStore {
		s, err := fsblob.Open(t.TempDir(), &fsblob.Options{Create: true})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return []backend{
		{"memblob", mem, faultblob.Options{}},
		{"memblob-unbatched", mem, faultblob.Options{HideBatcher: true}},
		{"fsblob", fs, faultblob.Options{}},
		{"fsblob-unbatched", fs, faultblob.Options{HideBatcher: true}},
	}
}

// scenario is one write, its effect on the state, and the passphrase after it.
type scenario struct {
	name  string
	run   func(ctx context.Context, v *vault.Vault) error
	after func(prev state) state
	pass  string // passphrase that opens the new state (default oldPass)
	junk  int    // unreferenced objects put in the store before the run
}

func with(prev state, kv ...any) state {
	next := maps.Clone(prev)
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(next, kv[i].(string))
		} else {
			next[kv[i].(string)] = kv[i+1].([]byte)
		}
	}
	return next
}

func scenarios() []scenario {
	alpha2, delta, gamma2, beta2 := payload(700), payload(5000), payload(100), payload(7000)
	same := func(prev state) state { return prev }
	return []scenario{
		{name: "StoreAll", run: func(ctx context.Context, v *vault.Vault) error {
			return v.StoreAll(ctx, state{"alpha": alpha2, "delta": delta})
		}, after: func(p state) state { return with(p, "alpha", alpha2, "delta", delta) }},
		{name: "Store", run: func(ctx context.Context, v *vault.Vault) error {
			return v.Store(ctx, "gamma", gamma2)
		}, after: func(p state) state { return with(p, "gamma", gamma2) }},
		{name: "Put", run: func(ctx context.Context, v *vault.Vault) error {
			return v.Put(ctx, "beta", bytes.NewReader(beta2))
		}, after: func(p state) state { return with(p, "beta", beta2) }},
		{name: "Delete", run: func(ctx context.Context, v *vault.Vault) error {
			return v.Delete(ctx, "beta")
		}, after: func(p state) state { return with(p, "beta", nil) }},
		{name: "RotateKey", run: func(ctx context.Context, v *vault.Vault) error {
			return v.RotateKey(ctx, "beta")
		}, after: same},
		{name: "ChangePassphrase", run: func(ctx context.Context, v *vault.Vault) error {
			return v.ChangePassphrase(ctx, []byte(newPass))
		}, after: same, pass: newPass},
		{name: "Rekey", run: func(ctx context.Context, v *vault.Vault) error {
			return v.Rekey(ctx, []byte(newPass), "")
		}, after: same, pass: newPass},
		{name: "Sweep", junk: 3, run: func(ctx context.Context, v *vault.Vault) error {
			_, err := v.Sweep(ctx)
			return err
		}, after: same},
	}
}

// fixture is a store with a vault in its initial state, and a handle on the
// vault through the fault-injecting wrapper.
type fixture struct {
	t     *testing.T
	inner domain.BlobStore
	c     *faultblob.Controller
	v     *vault.Vault // through the wrapper
	prev  state
	cfg   vault.Config
	what  string // the fault under test, for messages
}

func (f *fixture) fatalf(format string, args ...any) {
	f.t.Helper()
	f.t.Fatalf("%s: "+format, append([]any{f.what}, args...)...)
}

func initial() state {
	return state{"alpha": payload(40), "beta": payload(4500), "gamma": payload(900)}
}

// newFixture builds the initial state. With stale set, another handle commits
// once more after the wrapped handle was opened, so that the run under test
// starts by reading the new header and manifest through the wrapper.
func newFixture(t *testing.T, b backend, sc scenario, prev state, stale bool) *fixture {
	t.Helper()
	ctx := context.Background()
	inner := b.open(t)
	cfg := vault.Config{Store: inner, Crypto: suite.New(kdf.InsecureTestPolicy()), Padding: policy(t)}
	v, err := vault.Create(ctx, cfg, []byte(oldPass))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.StoreAll(ctx, prev); err != nil {
		t.Fatal(err)
	}
	_ = v.Close()
	if sc.junk > 0 {
		plantJunk(t, cfg, sc.junk)
	}
	wrapped, c := faultblob.Wrap(inner, &b.opts)
	wcfg := cfg
	wcfg.Store = wrapped
	wv, err := vault.Open(ctx, wcfg, []byte(oldPass))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = wv.Close() })
	if stale {
		other, err := vault.Open(ctx, cfg, []byte(oldPass))
		if err != nil {
			t.Fatal(err)
		}
		omega := payload(2100)
		if err := other.Store(ctx, "omega", omega); err != nil {
			t.Fatal(err)
		}
		_ = other.Close()
		prev = with(prev, "omega", omega)
	}
	c.Reset()
	return &fixture{t: t, inner: inner, c: c, v: wv, prev: prev, cfg: cfg}
}

// lostCommit is a store whose header writes never take effect and whose
// deletions do nothing: a write through it leaves its objects behind, unreferenced
// but the vault's own, as a crash between the puts and the header write would.
type lostCommit struct {
	domain.BlobStore
}

func (lostCommit) CompareAndSwap(context.Context, domain.ObjectID, domain.Version, []byte) (domain.Version, error) {
	return "", errors.New("connection lost")
}

func (lostCommit) Delete(context.Context, domain.ObjectID) error { return nil }

func (s lostCommit) Lock(ctx context.Context) (func() error, error) {
	return s.BlobStore.(domain.Locker).Lock(ctx)
}

// plantJunk leaves n unreferenced objects of the vault in cfg's store: n-1 data
// objects and a manifest object of a write whose commit was lost.
func plantJunk(t *testing.T, cfg vault.Config, n int) {
	t.Helper()
	ctx := context.Background()
	cfg.Store = lostCommit{cfg.Store}
	v, err := vault.Open(ctx, cfg, []byte(oldPass))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	junk := state{}
	for i := range n - 1 {
		junk[fmt.Sprintf("junk-%d", i)] = payload(100 + i)
	}
	if err := v.StoreAll(ctx, junk); !errors.Is(err, domain.ErrOutcomeUnknown) {
		t.Fatalf("a write whose commit is lost: %v, want ErrOutcomeUnknown", err)
	}
}

// fresh opens the vault on the inner store, with no fault in the way, under the
// first passphrase of passes that opens it.
func (f *fixture) fresh(passes ...string) (*vault.Vault, string) {
	f.t.Helper()
	for _, p := range passes {
		v, err := vault.Open(context.Background(), f.cfg, []byte(p))
		if errors.Is(err, domain.ErrWrongPassphrase) {
			continue
		}
		if err != nil {
			f.t.Fatalf("fresh open: %v", err)
		}
		f.t.Cleanup(func() { _ = v.Close() })
		return v, p
	}
	f.t.Fatalf("no passphrase of %q opens the vault", passes)
	return nil, ""
}

func loadAll(t *testing.T, v *vault.Vault) state {
	t.Helper()
	got, err := v.LoadAll(context.Background())
	if err != nil {
		t.Fatalf("LoadAll: %v", err)
	}
	return got
}

func equalState(a, b state) bool {
	return maps.EqualFunc(a, b, bytes.Equal)
}

func describe(s state) string {
	names := slices.Sorted(maps.Keys(s))
	out := ""
	for _, n := range names {
		out += fmt.Sprintf("%s:%d ", n, len(s[n]))
	}
	return out
}

// orphans is the number of objects in the store that v does not reference.
func orphans(t *testing.T, store domain.BlobStore, v *vault.Vault) int {
	t.Helper()
	ctx := context.Background()
	n := 0
	if err := store.List(ctx, func(domain.ObjectID) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	st, err := v.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n - st.Objects
}

func passOf(sc scenario) string {
	if sc.pass == "" {
		return oldPass
	}
	return sc.pass
}

// check judges one run of sc with the fault that fired (if any).
func (f *fixture) check(sc scenario, kind faultblob.Kind, err error) (outcome string) {
	t := f.t
	t.Helper()
	ev, fired := f.c.Fired()
	want := sc.after(f.prev)
	v, pass := f.fresh(passOf(sc), oldPass)
	got := loadAll(t, v)
	switch {
	case err == nil:
		if !equalState(got, want) || pass != passOf(sc) {
			f.fatalf("succeeded, but a fresh open (passphrase %q) sees %s, want %s", pass, describe(got), describe(want))
		}
		outcome = "succeeded"
	case kind == faultblob.ShortRead:
		if !errors.Is(err, domain.ErrIntegrity) {
			f.fatalf("a short read gave %v, want an error wrapping ErrIntegrity", err)
		}
		if !equalState(got, f.prev) || pass != oldPass {
			f.fatalf("failed (%v), but a fresh open sees %s, want the previous %s", err, describe(got), describe(f.prev))
		}
		outcome = "failed"
	default:
		if !errors.Is(err, faultblob.ErrInjected) {
			f.fatalf("failed with %v, which is not the injected fault %+v", err, ev)
		}
		switch {
		case equalState(got, f.prev) && pass == oldPass:
			outcome = "failed, previous state"
		case kind == faultblob.FailAfterApply && equalState(got, want) && pass == passOf(sc):
			outcome = "failed, new state"
		default:
			f.fatalf("failed (%v) and a fresh open (passphrase %q) sees %s: neither the previous %s nor (after-apply) the new %s",
				err, pass, describe(got), describe(f.prev), describe(want))
		}
	}
	// The handle that saw the fault agrees with a fresh open.
	if seen, lerr := f.v.LoadAll(context.Background()); lerr != nil || !equalState(seen, got) {
		f.fatalf("after the fault the handle reads %s (%v), a fresh open %s", describe(seen), lerr, describe(got))
	}
	// No garbage unless a deletion was hit (or there was junk to begin with).
	extra := orphans(t, f.inner, v)
	hitDelete := fired && (ev.Op == faultblob.OpDelete || ev.Op == faultblob.OpDeleteBatch)
	switch {
	case sc.junk > 0:
		if err == nil && extra != 0 {
			f.fatalf("Sweep succeeded and left %d unreferenced objects", extra)
		}
	case extra != 0 && !hitDelete:
		f.fatalf("%d unreferenced objects left, and the fault (%+v) did not hit a deletion", extra, ev)
	}
	if extra > 0 {
		n, serr := v.Sweep(context.Background())
		if serr != nil || n != extra {
			f.fatalf("Sweep removed %d (%v), want %d", n, serr, extra)
		}
		if after := loadAll(t, v); !equalState(after, got) {
			f.fatalf("%s", "Sweep changed the vault's content")
		}
	}
	return outcome
}

// reads is the number of Get and GetVersioned calls counted so far.
func reads(c *faultblob.Controller) int {
	return c.Count(faultblob.OpGet) + c.Count(faultblob.OpGetVersioned)
}

func TestVaultAndCloakUnderFaults(t *testing.T) {
	for _, b := range backends() {
		for _, stale := range []bool{false, true} {
			if stale && b.name != "memblob" && b.name != "memblob-unbatched" {
				continue // the refresh path is the same on every store; fsblob is slow
			}
			for _, sc := range scenarios() {
				name := b.name + "/" + sc.name
				if stale {
					name = b.name + "/stale/" + sc.name
				}
				t.Run(name, func(t *testing.T) { testScenario(t, b, sc, stale) })
			}
		}
	}
}

// testScenario runs sc cleanly to count its operations, then once per operation
// and fault kind with the fault at that operation.
func testScenario(t *testing.T, b backend, sc scenario, stale bool) {
	ctx := context.Background()
	prev := initial()
	f := newFixture(t, b, sc, prev, stale)
	if err := sc.run(ctx, f.v); err != nil {
		t.Fatalf("clean run: %v", err)
	}
	ops, rd := f.c.Count(faultblob.OpAny), reads(f.c)
	f.what = "clean run"
	f.check(sc, 0, nil)
	for _, kind := range []faultblob.Kind{faultblob.Fail, faultblob.FailAfterApply, faultblob.ShortRead} {
		limit := ops
		if kind == faultblob.ShortRead {
			limit = rd
		}
		tally := map[string]int{}
		for n := 1; n <= limit; n++ {
			f := newFixture(t, b, sc, prev, stale)
			f.what = fmt.Sprintf("%s@%d", kind, n)
			f.c.Arm(faultblob.Fault{N: n, Kind: kind})
			err := sc.run(ctx, f.v)
			ev, fired := f.c.Fired()
			if !fired {
				f.fatalf("the fault at %d of %d never fired (err %v)", n, limit, err)
			}
			f.what += " on " + string(ev.Op)
			tally[fmt.Sprintf("%s on %s", f.check(sc, kind, err), ev.Op)]++
		}
		t.Logf("%d operations (%d reads); %s: %v", ops, rd, kind, tally)
	}
}

// Reads under faults: a fresh Open and LoadAll, with every read faulted in turn.
// A short read never yields wrong data; a failed read fails the call.
func TestOpenAndLoadUnderFaults(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			prev := initial()
			inner := b.open(t)
			cfg := vault.Config{Store: inner, Crypto: suite.New(kdf.InsecureTestPolicy()), Padding: policy(t)}
			v, err := vault.Create(ctx, cfg, []byte(oldPass))
			if err != nil {
				t.Fatal(err)
			}
			if err := v.StoreAll(ctx, prev); err != nil {
				t.Fatal(err)
			}
			_ = v.Close()
			wrapped, c := faultblob.Wrap(inner, &b.opts)
			wcfg := cfg
			wcfg.Store = wrapped
			openLoad := func() (state, error) {
				v, err := vault.Open(ctx, wcfg, []byte(oldPass))
				if err != nil {
					return nil, err
				}
				defer v.Close()
				return v.LoadAll(ctx)
			}
			c.Reset()
			if got, err := openLoad(); err != nil || !equalState(got, prev) {
				t.Fatalf("clean open and load: %v", err)
			}
			ops := c.Count(faultblob.OpAny)
			for _, kind := range []faultblob.Kind{faultblob.Fail, faultblob.FailAfterApply, faultblob.ShortRead} {
				for n := 1; n <= ops; n++ {
					c.Arm(faultblob.Fault{N: n, Kind: kind})
					got, err := openLoad()
					ev, fired := c.Fired()
					if !fired {
						c.Disarm()
						if kind == faultblob.ShortRead {
							break // fewer reads than operations
						}
						t.Fatalf("%s@%d never fired", kind, n)
					}
					switch {
					case err == nil:
						if !equalState(got, prev) {
							t.Fatalf("%s@%d on %s: wrong data %s", kind, n, ev.Op, describe(got))
						}
					case kind == faultblob.ShortRead:
						if !errors.Is(err, domain.ErrIntegrity) {
							t.Fatalf("short read @%d on %s: %v, want ErrIntegrity", n, ev.Op, err)
						}
					default:
						if !errors.Is(err, faultblob.ErrInjected) {
							t.Fatalf("%s@%d on %s: %v, want the injected fault", kind, n, ev.Op, err)
						}
						if got != nil {
							t.Fatalf("%s@%d: data returned with an error", kind, n)
						}
					}
				}
			}
		})
	}
}

// Reordering, and a failed List, change nothing for Sweep: it removes exactly
// the unreferenced objects, or fails and removes none.
func TestSweepWithReorderedAndFailedLists(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			prev := initial()
			f := newFixture(t, b, scenario{junk: 5}, prev, false)
			f.c.Arm(faultblob.Fault{Op: faultblob.OpList, N: 1, Kind: faultblob.FailAfterApply})
			if _, err := f.v.Sweep(ctx); !errors.Is(err, faultblob.ErrInjected) {
				t.Fatalf("Sweep with a failing List: %v", err)
			}
			v, _ := f.fresh(oldPass)
			if n := orphans(t, f.inner, v); n != 5 {
				t.Fatalf("a failed Sweep removed objects: %d unreferenced left, want 5", n)
			}
			f.c.Reorder(true)
			n, err := f.v.Sweep(ctx)
			if err != nil || n != 5 {
				t.Fatalf("Sweep over a reordered List removed %d (%v), want 5", n, err)
			}
			if got := loadAll(t, v); !equalState(got, prev) {
				t.Fatal("Sweep changed the content")
			}
			if n := orphans(t, f.inner, v); n != 0 {
				t.Fatalf("%d unreferenced objects left", n)
			}
			// Writes with reordered batches are unaffected too.
			next := with(prev, "zeta", payload(3000))
			if err := f.v.StoreAll(ctx, state{"zeta": next["zeta"]}); err != nil {
				t.Fatal(err)
			}
			if got := loadAll(t, v); !equalState(got, next) {
				t.Fatal("a reordered batch write is not read back")
			}
		})
	}
}
