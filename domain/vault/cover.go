package vault

import (
	"context"
	"errors"
	"sync"

	"github.com/ai-pantheon/aegis/domain"
)

// Cover writes. The Cloak's layer (package anonymize) sends cover requests with
// every window; a cover write puts random bytes under a fresh id that CoverID
// hands out while a write of this Vault is under way. The ids derive from the
// write's seed (label labelCover), so they are owned like its data objects, and
// they are removed the way the write's other garbage is:
//
//   - the commit lists every cover id of the write in the new manifest's garbage
//     list and deletes them after the header swap (a later write deletes them
//     again if that failed);
//   - a write that fails before its header is sent deletes them with the rest of
//     what it wrote;
//   - a write that dies leaves its intent listed (stores without a writer lock),
//     and whoever collects the intent deletes them by probing (collectCover), or
//     unreferenced owned objects that Sweep removes (stores with one).
//
// Cover writes stop before the manifest objects are sealed, so every cover id
// handed out is in the manifest that the write commits.

// labelCover labels the ids of cover writes.
const labelCover = 'c'

// coverGroup is how many cover ids a collection deletes at once; a group of
// which none was found ends it.
const coverGroup = 16

// coverState is the write whose cover ids CoverID hands out.
type coverState struct {
	mu sync.Mutex
	w  *write // nil: no write is taking cover writes
}

// CoverID returns a fresh object id for a cover write, and false when no write of
// this Vault is under way or the write under way takes no more. It is safe to
// call from any goroutine, also while the Vault is busy.
func (v *Vault) CoverID() (domain.ObjectID, bool) {
	v.cover.mu.Lock()
	defer v.cover.mu.Unlock()
	w := v.cover.w
	if w == nil {
		return domain.ObjectID{}, false
	}
	id := w.id(labelCover, w.cover)
	w.cover++
	return id, true
}

// openCover lets CoverID hand out ids of w: once w's intent is listed, on a
// store that needs one.
func (v *Vault) openCover(w *write) {
	if v.needsIntents() && !w.registered {
		return
	}
	v.cover.mu.Lock()
	if !w.coverClosed {
		v.cover.w = w
	}
	v.cover.mu.Unlock()
}

// closeCover ends w's cover writes and returns the ids handed out (the same list
// at every call).
func (v *Vault) closeCover(w *write) []domain.ObjectID {
	v.cover.mu.Lock()
	if v.cover.w == w {
		v.cover.w = nil
	}
	w.coverClosed = true
	n := w.cover
	v.cover.mu.Unlock()
	ids := make([]domain.ObjectID, n)
	for i := range ids {
		ids[i] = w.id(labelCover, uint32(i))
	}
	return ids
}

// collectCover deletes the cover objects of an abandoned write, coverGroup ids at
// a time, until a group of which none was found.
func (v *Vault) collectCover(ctx context.Context, w *write) {
	for start := uint32(0); start < 1<<24; start += coverGroup {
		var (
			found atomicBool
			wg    sync.WaitGroup
		)
		for i := range uint32(coverGroup) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := v.store.Delete(ctx, w.id(labelCover, start+i))
				if err == nil || !errors.Is(err, domain.ErrNotFound) {
					found.set()
				}
			}()
		}
		wg.Wait()
		if !found.get() || ctx.Err() != nil {
			return
		}
	}
}

type atomicBool struct {
	mu sync.Mutex
	v  bool
}

func (b *atomicBool) set() { b.mu.Lock(); b.v = true; b.mu.Unlock() }
func (b *atomicBool) get() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.v
}
