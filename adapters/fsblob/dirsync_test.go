//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package fsblob

// A crash test that kills the process cannot see a missing directory fsync: the
// page cache outlives the process, so the renamed or unlinked entry is there when
// the store is opened again, synced or not. These tests see it. They replace the
// variables through which the store changes its directories and makes changes
// durable (fsops.go), and those through which it takes and releases its lock files
// (lock.go), with recorders, and check the trace of each operation:
//
//   - every rename of a temp file into a shard directory (Put, CompareAndSwap,
//     PutBatch, PutBatchThenSwap) and every unlink by Delete is followed by a sync
//     of that directory, and every directory made by one of the store's mkdirs by
//     a sync of its parent, before the operation returns;
//   - Put, CompareAndSwap, Delete and the swap of PutBatchThenSwap sync the
//     directory while the commit lock (cas.lock) they renamed or unlinked under
//     is still held; PutBatch renames under the lock and syncs its files and
//     directories in one round after it (documented), and PutBatchThenSwap
//     renames its swap only once that round is over;
//   - the contents of every renamed file are synced: before the rename for a
//     write and for an object a batch replaces, before the batch returns for a new
//     one;
//   - DeleteBatch unlinks under the lock and syncs nothing (documented);
//   - through a Dated view, every directory and file is synced with its dated
//     modification time already set.
//
// Whether the commit lock is held is known in two independent ways, and both must
// say so. The trace: flock and unflock record cas.lock being taken (once the
// flock is granted) and released (before the unlock is made), so an event between
// the two lies in one critical section. The kernel: at the start and at the end of
// every recorded rename, unlink and sync, the recorder tries to flock cas.lock
// exclusively without waiting, from a descriptor of its own. flock(2) locks
// belong to open file descriptions, so that attempt fails while any description
// holds the lock, in this process too, and only the operation under test takes
// it here. An attempt that succeeds is undone at once; the recorder's mutex makes
// each check and its record one step with respect to the other recorded events,
// so that concurrent syncs (a batch's round) cannot take each other's attempts for
// the store's lock. TestDirSyncRecorderSeesTheLock checks the kernel check
// itself.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/adapters/internal/durable"
	"github.com/ai-pantheon/aegis/domain"
)

// dirsyncTime is what the Dated variant sets times to.
var dirsyncTime = time.Unix(1_700_000_000, 0)

type eventKind int

const (
	evLock     eventKind = iota // cas.lock granted
	evUnlock                    // cas.lock about to be released
	evMkdir                     // a directory made
	evRename                    // a temp file renamed over an object's name
	evUnlink                    // an object's file unlinked
	evSyncDir                   // a directory synced
	evSyncFile                  // a file synced
)

var eventNames = [...]string{"lock", "unlock", "mkdir", "rename", "unlink", "sync-dir", "sync-file"}

type event struct {
	kind  eventKind
	path  string    // the directory made or synced, the new name, the file unlinked or synced
	from  string    // rename: the temp file
	held  bool      // rename, unlink, syncs: cas.lock could not be taken at the start nor at the end
	mtime time.Time // syncs: the modification time when the sync began
}

func (e event) String() string {
	s := eventNames[e.kind] + " " + e.path
	if e.kind == evRename {
		s = eventNames[e.kind] + " " + filepath.Base(e.from) + " -> " + e.path
	}
	return s
}

// recorder records the trace of a Store's directory changes, syncs and commit
// lock.
type recorder struct {
	t      *testing.T
	s      *Store
	mu     sync.Mutex
	events []event
	// then, if set, is called with every event after it is recorded (outside mu).
	then func(event)
}

// record replaces the variables of fsops.go and lock.go with recorders until the
// end of the test.
func record(t *testing.T, s *Store) *recorder {
	t.Helper()
	r := &recorder{t: t, s: s}
	oSyncDir, oSyncFile, oRename, oUnlink, oMkdir, oFlock, oUnflock := syncDir, syncFile, rename, unlink, mkdir, flock, unflock
	t.Cleanup(func() {
		syncDir, syncFile, rename, unlink, mkdir, flock, unflock = oSyncDir, oSyncFile, oRename, oUnlink, oMkdir, oFlock, oUnflock
	})
	syncDir = func(dir string) error {
		held, mt := r.check(), modTime(dir)
		err := oSyncDir(dir)
		if err == nil {
			r.add(event{kind: evSyncDir, path: dir, mtime: mt}, held)
		}
		return err
	}
	syncFile = func(f *os.File) error {
		held, mt := r.check(), modTime(f.Name())
		err := oSyncFile(f)
		if err == nil {
			r.add(event{kind: evSyncFile, path: f.Name(), mtime: mt}, held)
		}
		return err
	}
	rename = func(from, to string) error {
		held := r.check()
		err := oRename(from, to)
		if err == nil {
			r.add(event{kind: evRename, path: to, from: from}, held)
		}
		return err
	}
	unlink = func(path string) error {
		held := r.check()
		err := oUnlink(path)
		if err == nil {
			r.add(event{kind: evUnlink, path: path}, held)
		}
		return err
	}
	mkdir = func(dir string, perm fs.FileMode) error {
		err := oMkdir(dir, perm)
		if err == nil {
			r.add(event{kind: evMkdir, path: dir}, false)
		}
		return err
	}
	flock = func(ctx context.Context, path string, how durable.LockKind) (*os.File, error) {
		f, err := oFlock(ctx, path, how)
		if err == nil && path == s.commit.path {
			r.add(event{kind: evLock, path: path}, false)
		}
		return f, err
	}
	unflock = func(f *os.File) error {
		if f.Name() == s.commit.path {
			r.add(event{kind: evUnlock, path: f.Name()}, false)
		}
		return oUnflock(f)
	}
	return r
}

func modTime(path string) time.Time {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// check reports whether cas.lock is held: an exclusive flock of it from a fresh
// descriptor, without waiting, fails.
func (r *recorder) check() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.checkLocked()
}

func (r *recorder) checkLocked() bool {
	if _, err := os.Stat(r.s.commit.path); errors.Is(err, fs.ErrNotExist) {
		return false // not made yet, so not held; and not to be made here
	}
	f, ok, err := durable.TryOpenLocked(r.s.commit.path, durable.Exclusive)
	if err != nil {
		r.t.Errorf("checking cas.lock: %v", err)
		return false
	}
	if ok {
		if err := durable.Unlock(f); err != nil {
			r.t.Errorf("releasing cas.lock after checking it: %v", err)
		}
		return false
	}
	return true
}

// add records e. For renames, unlinks and syncs heldBefore is what check said
// before the call, and the lock is checked again now, in the same step as the
// record.
func (r *recorder) add(e event, heldBefore bool) {
	r.mu.Lock()
	switch e.kind {
	case evRename, evUnlink, evSyncDir, evSyncFile:
		e.held = heldBefore && r.checkLocked()
	}
	r.events = append(r.events, e)
	then := r.then
	r.mu.Unlock()
	if then != nil {
		then(e)
	}
}

func (r *recorder) setThen(fn func(event)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.then = fn
}

// take returns the trace recorded since the last take and forgets it.
func (r *recorder) take() trace {
	r.mu.Lock()
	defer r.mu.Unlock()
	tr := trace{events: r.events}
	r.events = nil
	// Number the commit lock's critical sections from the lock and unlock events.
	tr.section = make([]int, len(tr.events))
	n, cur := 0, 0
	for i, e := range tr.events {
		switch e.kind {
		case evLock:
			if cur != 0 {
				r.t.Errorf("trace: cas.lock taken twice without a release between:\n%s", tr)
			}
			n++
			cur = n
			tr.section[i] = cur
		case evUnlock:
			if cur == 0 {
				r.t.Errorf("trace: cas.lock released but not held:\n%s", tr)
			}
			tr.section[i] = cur
			cur = 0
		default:
			tr.section[i] = cur
		}
	}
	if cur != 0 {
		r.t.Errorf("trace: cas.lock still held when the operation returned:\n%s", tr)
	}
	return tr
}

// trace is the events of one operation, each with the number of the critical
// section of the commit lock it lies in (0: none).
type trace struct {
	events  []event
	section []int
}

func (tr trace) String() string {
	s := ""
	for i, e := range tr.events {
		lock := "      "
		if tr.section[i] != 0 {
			lock = fmt.Sprintf("lock%-2d", tr.section[i])
		}
		held := ""
		if e.held {
			held = " (held)"
		}
		s += fmt.Sprintf("  %2d %s %s%s\n", i, lock, e, held)
	}
	return s
}

// indices returns the indices of the events of kind k.
func (tr trace) indices(k eventKind) []int {
	var out []int
	for i, e := range tr.events {
		if e.kind == k {
			out = append(out, i)
		}
	}
	return out
}

// next returns the index of the first event of kind k on path after index i, or -1.
func (tr trace) next(i int, k eventKind, path string) int {
	for j := i + 1; j < len(tr.events); j++ {
		if tr.events[j].kind == k && tr.events[j].path == path {
			return j
		}
	}
	return -1
}

// prev returns the index of the last event of kind k on path before index i, or -1.
func (tr trace) prev(i int, k eventKind, path string) int {
	for j := i - 1; j >= 0; j-- {
		if tr.events[j].kind == k && tr.events[j].path == path {
			return j
		}
	}
	return -1
}

// locked reports whether the event at i lies in a critical section of the commit
// lock by both the trace and the kernel.
func (tr trace) locked(i int) bool { return tr.section[i] != 0 && tr.events[i].held }

// synced checks that the directory of the rename or unlink at i is synced after
// it and returns the index of that sync (-1 if none). If underLock, the change
// and the sync must lie in the same critical section of the commit lock.
func (tr trace) synced(t *testing.T, i int, underLock bool) int {
	t.Helper()
	e := tr.events[i]
	dir := filepath.Dir(e.path)
	if underLock && !tr.locked(i) {
		t.Errorf("%s (event %d) happens without the commit lock:\n%s", e, i, tr)
	}
	j := tr.next(i, evSyncDir, dir)
	if j < 0 {
		t.Errorf("%s (event %d) is not made durable: no sync of %s after it:\n%s", e, i, dir, tr)
		return -1
	}
	if underLock && (tr.section[j] != tr.section[i] || !tr.locked(j)) {
		t.Errorf("%s (event %d) is made durable by the sync of %s at event %d, which is not in the same critical section of the commit lock:\n%s", e, i, dir, j, tr)
	}
	return j
}

// common checks what holds for every operation: every directory made is followed
// by a sync of its parent, and with a dated view every sync sees the dated
// modification time.
func (tr trace) common(t *testing.T, dated bool) {
	t.Helper()
	for _, i := range tr.indices(evMkdir) {
		if dir := tr.events[i].path; tr.next(i, evSyncDir, filepath.Dir(dir)) < 0 {
			t.Errorf("mkdir %s (event %d) is not made durable: no sync of %s after it:\n%s", dir, i, filepath.Dir(dir), tr)
		}
	}
	if !dated {
		return
	}
	for i, e := range tr.events {
		if (e.kind == evSyncDir || e.kind == evSyncFile) && !e.mtime.Equal(dirsyncTime) {
			t.Errorf("%s (event %d) syncs modification time %v, want the dated %v:\n%s", e, i, e.mtime, dirsyncTime, tr)
		}
	}
}

// mkdirs returns the directories made, in order.
func (tr trace) mkdirs() []string {
	var out []string
	for _, i := range tr.indices(evMkdir) {
		out = append(out, tr.events[i].path)
	}
	return out
}

// write checks the trace of a Put or a CompareAndSwap that wrote file: one
// rename, of a temp file synced before it, and a sync of its directory in the
// same critical section; made are the directories it had to make.
func (tr trace) write(t *testing.T, dated bool, file string, made ...string) {
	t.Helper()
	tr.common(t, dated)
	renames := tr.indices(evRename)
	if len(renames) != 1 || tr.events[renames[0]].path != file {
		t.Fatalf("want one rename, over %s:\n%s", file, tr)
	}
	i := renames[0]
	if tr.prev(i, evSyncFile, tr.events[i].from) < 0 {
		t.Errorf("the temp file is renamed over %s before it is synced:\n%s", file, tr)
	}
	tr.synced(t, i, true)
	if got := tr.mkdirs(); !slices.Equal(got, made) {
		t.Errorf("directories made: %q, want %q:\n%s", got, made, tr)
	}
}

// batch checks the renames of a batch that wrote files (and not the swap's, at
// index swap if not -1): each under the commit lock, its directory synced after
// the last rename into it, its contents synced before the rename (a replaced
// object: those in replaced) or after it (a new one), before the swap's rename.
func (tr trace) batch(t *testing.T, files, replaced []string, swap int) {
	t.Helper()
	var renamed []string
	lastInto := map[string]int{}
	for _, i := range tr.indices(evRename) {
		if i == swap {
			continue
		}
		e := tr.events[i]
		renamed = append(renamed, e.path)
		if !tr.locked(i) {
			t.Errorf("%s (event %d) happens without the commit lock:\n%s", e, i, tr)
		}
		lastInto[filepath.Dir(e.path)] = i
		if slices.Contains(replaced, e.path) {
			if tr.prev(i, evSyncFile, e.from) < 0 {
				t.Errorf("%s (event %d) replaces an object with a temp file not synced before:\n%s", e, i, tr)
			}
		} else if j := tr.next(i, evSyncFile, e.path); j < 0 {
			t.Errorf("%s (event %d): the new object's contents are never synced:\n%s", e, i, tr)
		} else if swap >= 0 && j > swap {
			t.Errorf("%s (event %d): the new object's contents are synced after the swap:\n%s", e, i, tr)
		}
	}
	slices.Sort(renamed)
	files = slices.Sorted(slices.Values(files))
	if !slices.Equal(renamed, files) {
		t.Errorf("renamed %q, want each of %q once:\n%s", renamed, files, tr)
	}
	for _, i := range lastInto {
		if j := tr.synced(t, i, false); swap >= 0 && j > swap {
			t.Errorf("%s (event %d) is made durable only after the swap's rename (event %d):\n%s", tr.events[i], i, swap, tr)
		}
	}
	// The objects directory, when the batch made shards in it: its sync comes
	// after the last mkdir (common) and, with a swap, before the swap's rename.
	if made := tr.indices(evMkdir); len(made) > 0 && swap >= 0 {
		last := made[len(made)-1]
		dir := filepath.Dir(tr.events[last].path)
		if j := tr.next(last, evSyncDir, dir); j > swap {
			t.Errorf("%s is synced only after the swap's rename:\n%s", dir, tr)
		}
	}
}

// store is what both a Store and a Dated view are.
type store interface {
	domain.BlobStore
	domain.Batcher
	domain.BatchSwapper
}

// dirsyncVariants runs fn on a fresh Store (opened without Create, so that the
// first write makes the objects directory) with a recorder, and through the
// Store itself and through a Dated view.
func dirsyncVariants(t *testing.T, fn func(t *testing.T, s *Store, st store, r *recorder, dated bool)) {
	for _, dated := range []bool{false, true} {
		name := "store"
		if dated {
			name = "dated"
		}
		t.Run(name, func(t *testing.T) {
			s, err := Open(t.TempDir(), nil)
			if err != nil {
				t.Fatal(err)
			}
			var st store = s
			if dated {
				st = s.Dated(dirsyncTime).(store)
			}
			fn(t, s, st, record(t, s), dated)
		})
	}
}

// idIn returns a fresh random id in shard (its first byte).
func idIn(t *testing.T, shard byte) domain.ObjectID {
	t.Helper()
	id, err := domain.NewObjectID(nil)
	if err != nil {
		t.Fatal(err)
	}
	id[0] = shard
	return id
}

func TestDirSyncPut(t *testing.T) {
	ctx := context.Background()
	dirsyncVariants(t, func(t *testing.T, s *Store, st store, r *recorder, dated bool) {
		a, b, c := idIn(t, 0x11), idIn(t, 0x11), idIn(t, 0x22)
		shardA, fileA := s.paths(a)
		shardC, fileC := s.paths(c)
		_, fileB := s.paths(b)

		// The first object: the objects directory and a shard directory made.
		if err := st.Put(ctx, a, []byte("a")); err != nil {
			t.Fatal(err)
		}
		r.take().write(t, dated, fileA, s.objects, shardA)
		// A new object in an existing shard, then one that replaces it.
		if err := st.Put(ctx, b, []byte("b")); err != nil {
			t.Fatal(err)
		}
		r.take().write(t, dated, fileB)
		if err := st.Put(ctx, a, []byte("a2")); err != nil {
			t.Fatal(err)
		}
		r.take().write(t, dated, fileA)
		// A new shard in the existing objects directory.
		if err := st.Put(ctx, c, []byte("c")); err != nil {
			t.Fatal(err)
		}
		r.take().write(t, dated, fileC, shardC)
	})
}

func TestDirSyncCompareAndSwap(t *testing.T) {
	ctx := context.Background()
	dirsyncVariants(t, func(t *testing.T, s *Store, st store, r *recorder, dated bool) {
		a := idIn(t, 0x33)
		shard, file := s.paths(a)
		v1, err := st.CompareAndSwap(ctx, a, "", []byte("one"))
		if err != nil {
			t.Fatal(err)
		}
		r.take().write(t, dated, file, s.objects, shard)
		if _, err := st.CompareAndSwap(ctx, a, v1, []byte("two")); err != nil {
			t.Fatal(err)
		}
		r.take().write(t, dated, file)
		// A refused compare renames nothing.
		if _, err := st.CompareAndSwap(ctx, a, v1, []byte("three")); !errors.Is(err, domain.ErrConflict) {
			t.Fatalf("stale compare-and-swap: %v, want ErrConflict", err)
		}
		if tr := r.take(); len(tr.indices(evRename)) != 0 {
			t.Errorf("a refused compare-and-swap renamed:\n%s", tr)
		}
	})
}

func TestDirSyncDelete(t *testing.T) {
	ctx := context.Background()
	dirsyncVariants(t, func(t *testing.T, s *Store, st store, r *recorder, dated bool) {
		a, b := idIn(t, 0x44), idIn(t, 0x44)
		_, fileA := s.paths(a)
		for _, id := range []domain.ObjectID{a, b} {
			if err := st.Put(ctx, id, []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		r.take()
		if err := st.Delete(ctx, a); err != nil {
			t.Fatal(err)
		}
		tr := r.take()
		tr.common(t, dated)
		unlinks := tr.indices(evUnlink)
		if len(unlinks) != 1 || tr.events[unlinks[0]].path != fileA {
			t.Fatalf("want one unlink, of %s:\n%s", fileA, tr)
		}
		tr.synced(t, unlinks[0], true)
		// A missing object: nothing unlinked.
		if err := st.Delete(ctx, a); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("Delete of a missing object: %v, want ErrNotFound", err)
		}
		if tr := r.take(); len(tr.indices(evUnlink)) != 0 {
			t.Errorf("Delete of a missing object unlinked:\n%s", tr)
		}
	})
}

// dirsyncBatch returns a batch over a store that already holds an object in shard
// 0x55 and one in 0x66: an object that replaces the first, new objects in both
// shards, and new objects in two shards that do not exist yet (0x77, 0x88). It
// returns the batch, the files it writes, the one it replaces and the shards it
// makes.
func dirsyncBatch(t *testing.T, s *Store, st store) (objs []domain.Object, files, replaced, made []string) {
	t.Helper()
	old, other := idIn(t, 0x55), idIn(t, 0x66)
	for _, id := range []domain.ObjectID{old, other} {
		if err := st.Put(context.Background(), id, []byte("old")); err != nil {
			t.Fatal(err)
		}
	}
	ids := []domain.ObjectID{old, idIn(t, 0x55), idIn(t, 0x66), idIn(t, 0x66), idIn(t, 0x77), idIn(t, 0x77), idIn(t, 0x88)}
	for i, id := range ids {
		objs = append(objs, domain.Object{ID: id, Data: []byte{byte(i), 7}})
		_, file := s.paths(id)
		files = append(files, file)
	}
	_, oldFile := s.paths(old)
	s77, _ := s.paths(ids[4])
	s88, _ := s.paths(ids[6])
	return objs, files, []string{oldFile}, []string{s77, s88}
}

func TestDirSyncPutBatch(t *testing.T) {
	ctx := context.Background()
	dirsyncVariants(t, func(t *testing.T, s *Store, st store, r *recorder, dated bool) {
		objs, files, replaced, made := dirsyncBatch(t, s, st)
		r.take()
		if err := st.PutBatch(ctx, objs); err != nil {
			t.Fatal(err)
		}
		tr := r.take()
		tr.common(t, dated)
		tr.batch(t, files, replaced, -1)
		if got := tr.mkdirs(); !slices.Equal(got, made) {
			t.Errorf("directories made: %q, want %q:\n%s", got, made, tr)
		}
	})
}

func TestDirSyncPutBatchThenSwap(t *testing.T) {
	ctx := context.Background()
	dirsyncVariants(t, func(t *testing.T, s *Store, st store, r *recorder, dated bool) {
		head := idIn(t, 0x99)
		_, headFile := s.paths(head)
		v1, err := st.CompareAndSwap(ctx, head, "", []byte("head 1"))
		if err != nil {
			t.Fatal(err)
		}
		objs, files, replaced, made := dirsyncBatch(t, s, st)
		r.take()
		v2, err := st.PutBatchThenSwap(ctx, objs, head, v1, []byte("head 2"))
		if err != nil {
			t.Fatal(err)
		}
		swapped := func(tr trace) int {
			t.Helper()
			swap := -1
			for _, i := range tr.indices(evRename) {
				if tr.events[i].path == headFile {
					if swap >= 0 {
						t.Errorf("the swap renamed twice:\n%s", tr)
					}
					swap = i
				}
			}
			if swap < 0 {
				t.Fatalf("no rename over %s:\n%s", headFile, tr)
			}
			if tr.prev(swap, evSyncFile, tr.events[swap].from) < 0 {
				t.Errorf("the swap's temp file is renamed before it is synced:\n%s", tr)
			}
			tr.synced(t, swap, true)
			return swap
		}
		tr := r.take()
		tr.common(t, dated)
		tr.batch(t, files, replaced, swapped(tr))
		if got := tr.mkdirs(); !slices.Equal(got, made) {
			t.Errorf("directories made: %q, want %q:\n%s", got, made, tr)
		}

		// An empty batch: the swap alone.
		v3, err := st.PutBatchThenSwap(ctx, nil, head, v2, []byte("head 3"))
		if err != nil {
			t.Fatal(err)
		}
		tr = r.take()
		tr.common(t, dated)
		tr.batch(t, nil, nil, swapped(tr))

		// A stale expected version is refused before anything is written.
		objs, _, _, _ = dirsyncBatch(t, s, st)
		r.take()
		if _, err := st.PutBatchThenSwap(ctx, objs, head, v2, []byte("stale")); !errors.Is(err, domain.ErrConflict) {
			t.Fatalf("stale swap: %v, want ErrConflict", err)
		}
		if tr := r.take(); len(tr.indices(evRename)) != 0 {
			t.Errorf("a swap refused before the batch renamed:\n%s", tr)
		}
		// A compare refused under the lock, after the batch: another writer
		// changes the head (written here directly, as a writer of another
		// process would, between the first compare and the batch's renames):
		// the batch is renamed and durable, the swap is not renamed.
		objs, files, replaced, _ = dirsyncBatch(t, s, st)
		r.take()
		var once sync.Once
		r.setThen(func(e event) {
			if e.kind == evRename {
				once.Do(func() {
					if err := os.WriteFile(headFile, []byte("another writer's"), filePerm); err != nil {
						t.Error(err)
					}
				})
			}
		})
		_, err = st.PutBatchThenSwap(ctx, objs, head, v3, []byte("late"))
		r.setThen(nil)
		if !errors.Is(err, domain.ErrConflict) {
			t.Fatalf("swap after another writer's: %v, want ErrConflict", err)
		}
		tr = r.take()
		tr.common(t, dated)
		tr.batch(t, files, replaced, -1)
		if got, _ := st.Get(ctx, head); string(got) != "another writer's" {
			t.Errorf("after a refused swap the head holds %q", got)
		}
	})
}

// DeleteBatch is documented not to sync: it unlinks under the commit lock and
// leaves the directories unsynced (what a crash undoes is garbage for
// Vault.Sweep). A change to that is a change to its documentation too.
func TestDirSyncDeleteBatch(t *testing.T) {
	ctx := context.Background()
	dirsyncVariants(t, func(t *testing.T, s *Store, st store, r *recorder, dated bool) {
		ids := []domain.ObjectID{idIn(t, 0xaa), idIn(t, 0xaa), idIn(t, 0xbb)}
		var files []string
		for _, id := range ids {
			if err := st.Put(ctx, id, []byte("x")); err != nil {
				t.Fatal(err)
			}
			_, file := s.paths(id)
			files = append(files, file)
		}
		r.take()
		if err := st.DeleteBatch(ctx, append(ids, idIn(t, 0xcc))); err != nil { // the last one missing
			t.Fatal(err)
		}
		tr := r.take()
		var unlinked []string
		for _, i := range tr.indices(evUnlink) {
			unlinked = append(unlinked, tr.events[i].path)
			if !tr.locked(i) {
				t.Errorf("%s (event %d) happens without the commit lock:\n%s", tr.events[i], i, tr)
			}
		}
		slices.Sort(unlinked)
		if files = slices.Sorted(slices.Values(files)); !slices.Equal(unlinked, files) {
			t.Errorf("unlinked %q, want %q:\n%s", unlinked, files, tr)
		}
		if syncs := tr.indices(evSyncDir); len(syncs) != 0 {
			t.Errorf("DeleteBatch synced a directory, which it is documented not to do:\n%s", tr)
		}
	})
}

// The recorder's kernel check sees the commit lock held by the Store (by another
// descriptor of the same process) and sees it free again after the release; the
// trace records both.
func TestDirSyncRecorderSeesTheLock(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := record(t, s)
	if r.check() {
		t.Fatal("cas.lock held before anyone took it")
	}
	release, err := s.commit.lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !r.check() {
		t.Error("cas.lock taken by the Store, but the check can take it too")
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if r.check() {
		t.Error("cas.lock released, but the check still finds it held")
	}
	tr := r.take()
	if len(tr.events) != 2 || tr.events[0].kind != evLock || tr.events[1].kind != evUnlock {
		t.Errorf("want lock, unlock:\n%s", tr)
	}
}
