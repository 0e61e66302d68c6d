package legacy

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/ai-pantheon/aegis/adapters/legacy/legacytest"
	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/domain"
)

var dekLayout = regexp.MustCompile(`^\{"nonce": "[A-Za-z0-9+/]{16}", "ciphertext": "[A-Za-z0-9+/]{64}"\}$`)

// The Go generator (legacytest) must write what the Python release writes.
// The committed fixture was written by Python (testdata/make_fixture.py), so
// its decrypted plaintexts are json.dumps(value, indent=2) of the values in
// py-vault.expected.json: PythonJSON of those values must give the same bytes,
// and re-indenting Python's vault files must give the files back.
func TestGeneratorMatchesPython(t *testing.T) {
	fixture := filepath.Join(t.TempDir(), "py-vault")
	if err := legacytest.CopyFixture("testdata/py-vault", fixture); err != nil {
		t.Fatal(err)
	}
	v, err := Open(fixture)
	if err != nil {
		t.Fatal(err)
	}
	pass, err := os.ReadFile("testdata/py-vault.pass")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/py-vault.expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]json.RawMessage
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	kek, err := kdf.Derive(pass, domain.KDFSpec{Name: domain.KDFPBKDF2SHA256, Iterations: Iterations, Salt: v.salt})
	if err != nil {
		t.Fatal(err)
	}
	defer kek.Destroy()
	for _, e := range v.entries {
		dek, err := open(kek.Bytes(), e.dek)
		if err != nil {
			t.Fatalf("%s: %v", e.name, err)
		}
		pt, err := open(dek, e.vault.encrypted)
		if err != nil {
			t.Fatalf("%s: %v", e.name, err)
		}
		gen, err := legacytest.PythonJSON(want[e.name])
		if err != nil {
			t.Fatalf("%s: %v", e.name, err)
		}
		if !bytes.Equal(gen, pt) {
			t.Errorf("%s: PythonJSON differs from Python's json.dumps(indent=2):\n%.300s\n---\n%.300s", e.name, gen, pt)
		}
		file, err := os.ReadFile(filepath.Join(fixture, e.name+VaultSuffix))
		if err != nil {
			t.Fatal(err)
		}
		if again, err := legacytest.PythonJSON(file); err != nil || !bytes.Equal(again, file) {
			t.Errorf("%s: the vault file is not laid out as PythonJSON writes it (%v)", e.name, err)
		}
		// legacytest writes key files on one line, as json.dump(obj, f) does.
		dekFile, err := os.ReadFile(filepath.Join(fixture, DEKPrefix+e.name))
		if err != nil {
			t.Fatal(err)
		}
		if !dekLayout.Match(dekFile) {
			t.Errorf("%s: the key file %q is not laid out as legacytest writes it", e.name, dekFile)
		}
	}
}
