package issuerkeys_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/adapters/issuerkeys"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

func TestKeyStore(t *testing.T) {
	dir := t.TempDir() + "/keys"
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	ks, err := issuerkeys.OpenKeyStore(dir, &issuerkeys.KeyStoreOptions{Create: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	k1, err := ks.Current(privacypass.TypeVOPRF)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := ks.Current(privacypass.TypeVOPRF); again.ID() != k1.ID() {
		t.Fatal("Current generated a second key")
	}
	fi, err := os.Stat(dir + "/" + k1.IDHex() + ".key")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", err, fi)
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
		t.Fatalf("key dir mode %v", di.Mode().Perm())
	}
	// Rotation: a key announced for later is listed after the current one and
	// becomes current at its not-before.
	k2, err := ks.Rotate(privacypass.TypeVOPRF, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if k2.ID()[privacypass.KeyIDSize-1] == k1.ID()[privacypass.KeyIDSize-1] {
		t.Fatal("truncated key ids collide")
	}
	d, err := ks.Directory("/request")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.TokenKeys) != 2 || !bytes.Equal(d.TokenKeys[0].TokenKey, k1.TokenKey()) || !d.TokenKeys[1].NotBefore.Equal(now.Add(time.Hour)) {
		t.Fatalf("directory order: %+v", d.TokenKeys)
	}
	// Reopen: the keys load from disk.
	now = now.Add(2 * time.Hour)
	ks2, err := issuerkeys.OpenKeyStore(dir, &issuerkeys.KeyStoreOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := ks2.Current(privacypass.TypeVOPRF)
	if err != nil || cur.ID() != k2.ID() {
		t.Fatalf("current after rotation: %v %v", cur, err)
	}
	if err := ks2.Retire(k1.ID()); err != nil {
		t.Fatal(err)
	}
	if keys, _ := ks2.Keys(); len(keys) != 1 {
		t.Fatalf("%d keys after retiring one", len(keys))
	}
	if err := ks2.Retire(k1.ID()); err == nil {
		t.Fatal("retired twice")
	}
	// A key file readable by others is refused.
	if err := os.Chmod(dir+"/"+k2.IDHex()+".key", 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := issuerkeys.OpenKeyStore(dir, nil); err == nil {
		t.Fatal("opened a key store with a world-readable key")
	}
}

// Type 5 keys rotate with truncated ids unique per type, and the directory
// lists them.
func TestType5Rotation(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	ks, err := issuerkeys.OpenKeyStore(t.TempDir()+"/keys", &issuerkeys.KeyStoreOptions{Create: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := ks.Current(privacypass.TypeVOPRFRistretto255)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[byte]bool{cur.ID()[privacypass.KeyIDSize-1]: true}
	for i := range 20 {
		k, err := ks.Rotate(privacypass.TypeVOPRFRistretto255, now.Add(time.Duration(i+1)*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if seen[k.ID()[privacypass.KeyIDSize-1]] {
			t.Fatalf("rotation %d repeats a truncated key id", i)
		}
		seen[k.ID()[privacypass.KeyIDSize-1]] = true
	}
	if again, err := ks.Current(privacypass.TypeVOPRFRistretto255); err != nil || again.ID() != cur.ID() {
		t.Fatalf("current key changed by rotations in the future: %v", err)
	}
	dir, err := ks.Directory("https://issuer.example/request")
	if err != nil {
		t.Fatal(err)
	}
	dk, err := dir.Key(privacypass.TypeVOPRFRistretto255, now)
	if err != nil || !bytes.Equal(dk.TokenKey, cur.TokenKey()) {
		t.Fatalf("directory key: %v", err)
	}
	// The keys reload from disk: a second store sees the same current key.
	again, err := issuerkeys.OpenKeyStore(ks.Dir(), &issuerkeys.KeyStoreOptions{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if k, err := again.Current(privacypass.TypeVOPRFRistretto255); err != nil || !bytes.Equal(k.TokenKey(), cur.TokenKey()) {
		t.Fatalf("current key after reopening: %v", err)
	}
}

// Stores sharing a directory (as processes do) generate one current key
// between them: keys.lock serialises the look and the write.
func TestSharedDirectoryGeneratesOneKey(t *testing.T) {
	dir := t.TempDir() + "/keys"
	stores := make([]*issuerkeys.KeyStore, 8)
	for i := range stores {
		ks, err := issuerkeys.OpenKeyStore(dir, &issuerkeys.KeyStoreOptions{Create: true})
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = ks
	}
	ids := make([][privacypass.KeyIDSize]byte, len(stores))
	var wg sync.WaitGroup
	for i, ks := range stores {
		wg.Go(func() {
			k, err := ks.Current(privacypass.TypeVOPRF)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = k.ID()
		})
	}
	wg.Wait()
	for i := range ids {
		if ids[i] != ids[0] {
			t.Fatalf("store %d got another current key than store 0", i)
		}
	}
	if keys, err := stores[0].Keys(); err != nil || len(keys) != 1 {
		t.Fatalf("%d keys stored, %v; want 1", len(keys), err)
	}
}

func TestOpenKeyStoreRefusals(t *testing.T) {
	root := t.TempDir()
	if _, err := issuerkeys.OpenKeyStore(root+"/absent", nil); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("missing directory without Create: %v, want ErrNotFound", err)
	}
	if err := os.WriteFile(root+"/file", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := issuerkeys.OpenKeyStore(root+"/file", &issuerkeys.KeyStoreOptions{Create: true}); !errors.Is(err, domain.ErrInvalidInput) {
		t.Fatalf("a file: %v, want ErrInvalidInput", err)
	}
	// A key file that does not parse, or holds another key than its name says.
	dir := root + "/keys"
	ks, err := issuerkeys.OpenKeyStore(dir, &issuerkeys.KeyStoreOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	k, err := ks.Current(privacypass.TypeVOPRF)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(dir + "/" + k.IDHex() + ".key")
	if err != nil {
		t.Fatal(err)
	}
	renamed := dir + "/" + strings.Repeat("ab", privacypass.KeyIDSize) + ".key"
	if err := os.WriteFile(renamed, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := issuerkeys.OpenKeyStore(dir, nil); !errors.Is(err, domain.ErrIntegrity) {
		t.Fatalf("a key under another key's name: %v, want ErrIntegrity", err)
	}
	if err := os.WriteFile(renamed, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := issuerkeys.OpenKeyStore(dir, nil); err == nil {
		t.Fatal("opened a key store with a key file that does not parse")
	}
}
