package ohttpkeys_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/adapters/ohttpkeys"
	"github.com/ai-pantheon/aegis/domain"
)

func TestStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ohttp")
	now := time.Unix(1_800_000_000, 0).UTC()
	clock := func() time.Time { return now }
	if _, err := ohttpkeys.Open(dir, nil); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("missing directory without Create: %v, want ErrNotFound", err)
	}
	s, err := ohttpkeys.Open(dir, &ohttpkeys.Options{Create: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if di, err := os.Stat(dir); err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("key directory: %v, %v", di, err)
	}
	k0, err := s.Current()
	if err != nil {
		t.Fatal(err)
	}
	if again, err := s.Current(); err != nil || again.KeyID() != k0.KeyID() {
		t.Fatalf("Current generated a second key: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, "00.key"))
	if err != nil || fi.Mode().Perm() != 0o600 || k0.KeyID() != 0 {
		t.Fatalf("first key: id %d, file %v, %v", k0.KeyID(), fi, err)
	}
	// Rotation takes the next id; the new key is current from its not-before.
	k1, err := s.Rotate(now.Add(time.Hour))
	if err != nil || k1.KeyID() != 1 {
		t.Fatalf("rotated key: %v, %v; want id 1", k1, err)
	}
	if cur, _ := s.Current(); cur.KeyID() != 0 {
		t.Fatalf("current before the new key's not-before: id %d", cur.KeyID())
	}
	now = now.Add(2 * time.Hour)
	reopened, err := ohttpkeys.Open(dir, &ohttpkeys.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if cur, err := reopened.Current(); err != nil || cur.KeyID() != 1 || !cur.NotBefore.Equal(k1.NotBefore) {
		t.Fatalf("current after reopening: %v, %v", cur, err)
	}
	if err := reopened.Retire(0); err != nil {
		t.Fatal(err)
	}
	if err := reopened.Retire(0); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("retired twice: %v", err)
	}
	if keys, err := reopened.Keys(); err != nil || len(keys) != 1 || keys[0].KeyID() != 1 {
		t.Fatalf("keys after retiring one: %v, %v", keys, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Fatalf("directory holds %d entries, want 01.key and keys.lock (no temp files)", len(entries))
	}
	// A key file others may read, or one that is not a key, is refused.
	file := filepath.Join(dir, "01.key")
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ohttpkeys.Open(dir, nil); !errors.Is(err, domain.ErrInvalidInput) {
		t.Fatalf("world-readable key: %v, want ErrInvalidInput", err)
	}
	if err := os.WriteFile(file, []byte(`{"not-before":"2027-01-01T00:00:00Z"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(file, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ohttpkeys.Open(dir, nil); !errors.Is(err, domain.ErrIntegrity) {
		t.Fatalf("a file that is not a key: %v, want ErrIntegrity", err)
	}
}

// Stores sharing a directory (as processes do) generate one current key
// between them: keys.lock serialises the look and the write.
func TestSharedDirectoryGeneratesOneKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ohttp")
	stores := make([]*ohttpkeys.Store, 8)
	for i := range stores {
		s, err := ohttpkeys.Open(dir, &ohttpkeys.Options{Create: true})
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = s
	}
	configs := make([][]byte, len(stores))
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() {
			k, err := s.Current()
			if err == nil {
				configs[i], err = k.Config().MarshalBinary()
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := range configs {
		if !bytes.Equal(configs[i], configs[0]) {
			t.Fatalf("store %d got another current key than store 0", i)
		}
	}
	if keys, err := stores[0].Keys(); err != nil || len(keys) != 1 {
		t.Fatalf("%d keys stored, %v; want 1", len(keys), err)
	}
}
