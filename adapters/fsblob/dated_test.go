//go:build linux

package fsblob_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/adapters/fsblob"
	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/blobstoretest"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// Window starts, as the Cloak would pass them: whole multiples of 10 s.
var (
	t0 = time.Unix(1_700_000_000, 0)
	t1 = time.Unix(1_700_000_010, 0)
)

// These tests run on Linux only: they read access times from syscall.Stat_t, and
// they check that reads leave access times alone, which fsblob does with
// O_NOATIME. The file systems of t.TempDir() mount with relatime by default, which
// updates an access time that is not later than the modification time (as with
// every dated file) or more than a day old (as t0 is) at the next read, so a read
// without O_NOATIME fails them.

func TestDatedConformance(t *testing.T) {
	blobstoretest.Run(t, func(t *testing.T) domain.BlobStore {
		s, err := fsblob.Open(t.TempDir(), nil)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s.Dated(t0)
	})
}

// A view keeps every optional port of the Store, which the Vault looks for.
func TestDatedViewKeepsThePorts(t *testing.T) {
	s, err := fsblob.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []domain.BlobStore{s.Dated(t0), s.Dated(t0).(domain.Dater).Dated(t1)} {
		if _, ok := v.(domain.Locker); !ok {
			t.Errorf("%T is not a domain.Locker", v)
		}
		if _, ok := v.(domain.Batcher); !ok {
			t.Errorf("%T is not a domain.Batcher", v)
		}
		if _, ok := v.(domain.BatchSwapper); !ok {
			t.Errorf("%T is not a domain.BatchSwapper", v)
		}
		if _, ok := v.(domain.Dater); !ok {
			t.Errorf("%T is not a domain.Dater", v)
		}
	}
}

// Every file and directory that writes and removals through a view change ends up
// with access and modification time t exactly, and reads (through the Store or
// the view) leave them so.
func TestDatedSetsTheTimesOfWhatItChanges(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	objects := filepath.Join(dir, "objects")
	s, err := fsblob.Open(dir, &fsblob.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[domain.ObjectID]string{}
	// Objects the Store writes at the real time, in shards 00 to 03; the view
	// replaces every one of them, so every file and directory below is the view's.
	for i := range 4 {
		id := shardID(t, byte(i), 0)
		if err := s.Put(ctx, id, []byte("undated")); err != nil {
			t.Fatal(err)
		}
	}
	v := s.Dated(t0)

	// Put, in a new shard.
	put := shardID(t, 0x10, 0)
	want[put] = "put"
	if err := v.Put(ctx, put, []byte(want[put])); err != nil {
		t.Fatal(err)
	}
	// CompareAndSwap: create, then swap.
	cas := shardID(t, 0x11, 0)
	ver, err := v.CompareAndSwap(ctx, cas, "", []byte("cas 1"))
	if err != nil {
		t.Fatal(err)
	}
	want[cas] = "cas 2"
	if _, err := v.CompareAndSwap(ctx, cas, ver, []byte(want[cas])); err != nil {
		t.Fatal(err)
	}
	// PutBatch: replacing the Store's objects, new objects in existing shards and
	// in new ones.
	var batch []domain.Object
	for _, id := range []domain.ObjectID{
		shardID(t, 0, 0), shardID(t, 1, 0), shardID(t, 2, 0), shardID(t, 3, 0),
		shardID(t, 0, 1), shardID(t, 0x10, 1), shardID(t, 0x20, 0), shardID(t, 0x21, 0),
	} {
		want[id] = "batch " + id.String()[:4]
		batch = append(batch, domain.Object{ID: id, Data: []byte(want[id])})
	}
	if err := v.(domain.Batcher).PutBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	// PutBatchThenSwap: create the swapped object, then replace it; each batch in a
	// new shard.
	bs := v.(domain.BatchSwapper)
	head, b1, b2 := shardID(t, 0x31, 0), shardID(t, 0x30, 0), shardID(t, 0x32, 0)
	want[b1], want[b2], want[head] = "b1", "b2", "head 2"
	hv, err := bs.PutBatchThenSwap(ctx, []domain.Object{{ID: b1, Data: []byte(want[b1])}}, head, "", []byte("head 1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bs.PutBatchThenSwap(ctx, []domain.Object{{ID: b2, Data: []byte(want[b2])}}, head, hv, []byte(want[head])); err != nil {
		t.Fatal(err)
	}

	all := tree(t, objects)
	if len(all) != 1+11+len(want) { // objects/, 11 shards, the objects
		t.Fatalf("%d paths under objects/, want %d: %q", len(all), 1+11+len(want), all)
	}
	wantTimes(t, t0, all...)

	// Reads, through the Store and the view: every object has its contents, and
	// no access time moved.
	for _, r := range []domain.BlobStore{s, v} {
		for id, data := range want {
			got, err := r.Get(ctx, id)
			if err != nil || string(got) != data {
				t.Fatalf("Get %s: %q, %v; want %q", id, got, err, data)
			}
			if _, _, err := r.GetVersioned(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		n := 0
		if err := r.List(ctx, func(domain.ObjectID) error { n++; return nil }); err != nil || n != len(want) {
			t.Fatalf("List: %d objects, %v; want %d", n, err, len(want))
		}
	}
	wantTimes(t, t0, all...)

	// Removals through a view of that view, dated t1: the directories unlinked
	// from take t1, nothing else moves.
	v1 := v.(domain.Dater).Dated(t1)
	if err := v1.Delete(ctx, put); err != nil {
		t.Fatal(err)
	}
	absent := shardID(t, 0x40, 0)
	if err := v1.(domain.Batcher).DeleteBatch(ctx, []domain.ObjectID{shardID(t, 0x20, 0), shardID(t, 0x21, 0), absent}); err != nil {
		t.Fatal(err)
	}
	changed := map[string]bool{}
	for _, b := range []byte{0x10, 0x20, 0x21} {
		changed[filepath.Join(objects, fmt.Sprintf("%02x", b))] = true
	}
	for _, p := range tree(t, objects) {
		if changed[p] {
			wantTimes(t, t1, p)
		} else {
			wantTimes(t, t0, p)
		}
	}
}

// A Vault over a view (which takes its Locker, Batcher and BatchSwapper ports)
// leaves every object file and directory with the view's times, and a Vault over
// the Store reads them without moving an access time.
func TestDatedVault(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := fsblob.Open(dir, &fsblob.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	crypto := suite.New(kdf.InsecureTestPolicy())
	pass := []byte("correct horse battery staple")
	v, err := vault.Create(ctx, vault.Config{Store: s.Dated(t0), Crypto: crypto}, pass)
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 3*domain.MiB)
	for _, step := range []func() error{
		func() error { return v.Store(ctx, "a", []byte("first")) },
		func() error { return v.Store(ctx, "b", big) },
		func() error { return v.Store(ctx, "a", []byte("second")) }, // replaces a: deletes its objects
		func() error { return v.Delete(ctx, "b") },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	all := tree(t, filepath.Join(dir, "objects"))
	wantTimes(t, t0, all...)

	r, err := vault.Open(ctx, vault.Config{Store: s, Crypto: crypto}, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, err := r.Load(ctx, "a"); err != nil || string(got) != "second" {
		t.Fatalf("Load: %q, %v", got, err)
	}
	wantTimes(t, t0, all...)
}

// On a store whose objects directory and lock files do not exist yet, a view's
// first write or Lock creates them dated, and dates the store directory too.
func TestDatedCreatesTheLayoutDated(t *testing.T) {
	for _, op := range []string{"put", "lock"} {
		t.Run(op, func(t *testing.T) {
			dir := t.TempDir()
			s, err := fsblob.Open(dir, nil) // makes writer.lock and tmp.lock, undated
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"writer.lock", "tmp.lock"} {
				if err := os.Remove(filepath.Join(dir, name)); err != nil {
					t.Fatal(err)
				}
			}
			v := s.Dated(t0)
			switch op {
			case "put":
				if err := v.Put(context.Background(), shardID(t, 0xab, 0), []byte("x")); err != nil {
					t.Fatal(err)
				}
			case "lock":
				unlock, err := v.(domain.Locker).Lock(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if err := unlock(); err != nil {
					t.Fatal(err)
				}
			}
			all := tree(t, dir)
			for _, name := range []string{"writer.lock", "cas.lock", "tmp.lock"} {
				if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
			wantTimes(t, t0, all...)
		})
	}
}

// Times that cannot be set: every call that could change the store fails with
// ErrInvalidInput and changes nothing; reads work.
func TestDatedRefusesTimesItCannotSet(t *testing.T) {
	ctx := context.Background()
	for _, bad := range []time.Time{{}, time.Unix(1<<40, 0)} {
		dir := t.TempDir()
		s, err := fsblob.Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		id := shardID(t, 0x55, 0)
		v := s.Dated(bad)
		calls := map[string]func() error{
			"Put": func() error { return v.Put(ctx, id, []byte("x")) },
			"CompareAndSwap": func() error {
				_, err := v.CompareAndSwap(ctx, id, "", []byte("x"))
				return err
			},
			"Delete":   func() error { return v.Delete(ctx, id) },
			"PutBatch": func() error { return v.(domain.Batcher).PutBatch(ctx, []domain.Object{{ID: id, Data: []byte("x")}}) },
			"PutBatchThenSwap": func() error {
				_, err := v.(domain.BatchSwapper).PutBatchThenSwap(ctx, nil, id, "", []byte("x"))
				return err
			},
			"DeleteBatch": func() error { return v.(domain.Batcher).DeleteBatch(ctx, []domain.ObjectID{id}) },
			"Lock": func() error {
				unlock, err := v.(domain.Locker).Lock(ctx)
				if err == nil {
					unlock()
				}
				return err
			},
		}
		for name, call := range calls {
			if err := call(); !errors.Is(err, domain.ErrInvalidInput) {
				t.Errorf("Dated(%v).%s: %v, want ErrInvalidInput", bad, name, err)
			}
		}
		if _, err := os.Lstat(filepath.Join(dir, "objects")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Dated(%v): objects/ exists after refused writes (%v)", bad, err)
		}
		if _, err := v.Get(ctx, id); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("Dated(%v).Get: %v, want ErrNotFound", bad, err)
		}
	}
}

// The Store itself keeps the real times of its writes.
func TestUndatedStoreKeepsRealTimes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := fsblob.Open(dir, &fsblob.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	id := shardID(t, 0x77, 0)
	before := time.Now().Add(-time.Second) // file times come from a coarser clock
	if err := s.Put(ctx, id, []byte("x")); err != nil {
		t.Fatal(err)
	}
	after := time.Now().Add(time.Second)
	file := filepath.Join(dir, "objects", "77", id.String())
	if _, mtime := fileTimes(t, file); mtime.Before(before) || mtime.After(after) {
		t.Fatalf("mtime %v, want the time of the Put (%v to %v)", mtime, before, after)
	}
}
