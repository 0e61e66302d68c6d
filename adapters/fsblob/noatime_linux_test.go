package fsblob_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/adapters/fsblob"
	"github.com/ai-pantheon/aegis/domain"
)

// Reads (Get, GetVersioned, List, the compare of CompareAndSwap, Open's search
// for temp files) leave the access times of object files and directories as they
// are. The file system of t.TempDir() mounts with relatime by default, which
// updates an access time more than a day old (as the one set here) at the next
// read, so a read without O_NOATIME fails this.
func TestReadsLeaveAccessTimes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := fsblob.Open(dir, &fsblob.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	a, b := shardID(t, 0x0a, 0), shardID(t, 0x0b, 0)
	for _, id := range []domain.ObjectID{a, b} {
		if err := s.Put(ctx, id, []byte(id.String())); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Unix(1_600_000_000, 0)
	all := tree(t, filepath.Join(dir, "objects"))
	for _, p := range all {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}

	if _, err := s.Get(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.GetVersioned(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompareAndSwap(ctx, a, "stale", []byte("x")); err == nil {
		t.Fatal("CompareAndSwap from a stale version succeeded")
	}
	n := 0
	if err := s.List(ctx, func(domain.ObjectID) error { n++; return nil }); err != nil || n != 2 {
		t.Fatalf("List: %d objects, %v", n, err)
	}
	if _, err := fsblob.Open(dir, nil); err != nil { // looks for temp files
		t.Fatal(err)
	}
	wantTimes(t, old, all...)
}

// shardID returns an object id in shard b (its first byte), distinct for each n.
func shardID(t *testing.T, b byte, n int) domain.ObjectID {
	t.Helper()
	id, err := domain.ParseObjectID(fmt.Sprintf("%02x%062x", b, n))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// fileTimes returns the access and modification times of path (not following a
// symbolic link).
func fileTimes(t *testing.T, path string) (atime, mtime time.Time) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return time.Unix(st.Atim.Unix()), time.Unix(st.Mtim.Unix())
}

// wantTimes checks that every path has access and modification time want.
func wantTimes(t *testing.T, want time.Time, paths ...string) {
	t.Helper()
	for _, p := range paths {
		atime, mtime := fileTimes(t, p)
		if !atime.Equal(want) || !mtime.Equal(want) {
			t.Errorf("%s: atime %v, mtime %v; want both %v", p, atime.UTC(), mtime.UTC(), want.UTC())
		}
	}
}

// tree returns root and every path below it. It reads directories with
// O_NOATIME (the test owns them), so that looking does not move access times.
func tree(t *testing.T, root string) []string {
	t.Helper()
	paths := []string{root}
	f, err := os.OpenFile(root, os.O_RDONLY|syscall.O_NOATIME, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() {
		return paths
	}
	entries, err := f.ReadDir(-1)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		paths = append(paths, tree(t, filepath.Join(root, e.Name()))...)
	}
	return paths
}
