// Package legacy reads vaults written by the Python release, aegis-cloak 0.1,
// so that their data can move into an Aegis vault (aegis import-legacy,
// docs/migrating.md). It only reads: it never creates, writes, renames,
// deletes or locks anything in the legacy directory.
//
// The legacy format, as the 0.1 source writes it:
//
//	.vault-salt        standard base64 (padded, no line break) of a 16-byte salt
//	KEK                PBKDF2-HMAC-SHA256(passphrase, salt, 600,000 iterations, 32 bytes)
//	.dek-<category>    {"nonce": b64(12 bytes), "ciphertext": b64(...)}: the 32-byte
//	                   DEK sealed with AES-256-GCM under the KEK, no associated data
//	<category>.vault   {"category": str, "encrypted": {"nonce", "ciphertext"},
//	                   "plaintext_size": int}: json.dumps(value, indent=2) sealed
//	                   with the DEK, no associated data
//
// The categories are the stems of the *.vault files.
//
// Open reads and checks every file without the passphrase; Vault.Decrypt
// derives the KEK once, opens every data key and every category, and checks
// each decrypted value. Both are all or nothing: either every category is
// returned, or an error says what is wrong and with which file.
//
// Parsing is strict. Every file is read once, bounded (MaxDEKFileSize,
// MaxVaultFileSize, MaxTotalSize, MaxCategories); base64 is standard, padded
// and canonical; a JSON object must have exactly the members of the format,
// each once (an unknown or repeated member, or one whose name differs only in
// case, is refused); nonces are 12 bytes, sealed data keys 48, and
// plaintext_size must match the ciphertext. The category member must equal the
// file's stem, and the stem must be a valid category name
// (domain.ValidateCategory).
//
// Symbolic links are not followed: a salt, key or vault file that is a
// symbolic link (or not a regular file) is refused, naming it, and every file
// is opened through an os.Root on the directory, so nothing outside it is
// read. Other entries (other files, subdirectories) are left alone and listed
// by Vault.Ignored.
//
// AES-GCM without associated data cannot tell a wrong key from an altered
// file, so Decrypt applies one rule: the passphrase is wrong
// (domain.ErrWrongPassphrase) when no data key opens with it; when some open
// and others do not, the others are corrupt (domain.ErrIntegrity, naming the
// first such file). A vault of one category whose key file was altered is
// therefore reported as a wrong passphrase, and so is a vault whose salt file
// was altered into another valid salt.
package legacy

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/secret"
	"github.com/ai-pantheon/aegis/domain"
)

// The fixed parameters and file names of the aegis-cloak 0.1 format.
const (
	// SaltFile is the name of the salt file.
	SaltFile = ".vault-salt"
	// DEKPrefix starts the name of a category's key file: ".dek-<category>".
	DEKPrefix = ".dek-"
	// VaultSuffix ends the name of a category's data file: "<category>.vault".
	VaultSuffix = ".vault"
	// SaltSize is the size of the salt in bytes.
	SaltSize = 16
	// Iterations is the PBKDF2-HMAC-SHA256 iteration count of the KEK.
	Iterations = 600_000
	// KeySize is the size of the KEK and of every DEK: AES-256.
	KeySize = 32
	// DEKSize is the size of a data key.
	DEKSize = KeySize
	// NonceSize is the size of every AES-GCM nonce.
	NonceSize = 12
	// TagSize is the size of the AES-GCM tag appended to every ciphertext.
	TagSize = 16
)

// Limits on what Open reads. A legacy vault beyond them cannot be imported.
const (
	// MaxDEKFileSize bounds a .dek-<category> file (one is about 110 bytes).
	MaxDEKFileSize = 4 << 10
	// MaxVaultFileSize bounds a <category>.vault file: 64 MiB, so about 48 MiB
	// of plaintext (base64 takes 4 bytes for 3).
	MaxVaultFileSize = 64 << 20
	// MaxTotalSize bounds the sum of the sizes of all key and vault files.
	MaxTotalSize = 256 << 20
	// MaxCategories bounds the number of categories.
	MaxCategories = 10_000
)

// saltFileSize is the length of the base64 of a SaltSize-byte salt.
const saltFileSize = (SaltSize + 2) / 3 * 4

// FileError is a problem with one file of a legacy vault. Err wraps a domain
// sentinel: domain.ErrIntegrity for a corrupt, truncated or missing file,
// domain.ErrInvalidInput for a file the reader refuses (a symbolic link, a
// file beyond the limits, a category name Aegis does not allow, a value that
// is not JSON).
type FileError struct {
	// Path is the file: the directory given to Open joined with its name.
	Path string
	// Category is the category the file belongs to; "" for the salt file.
	Category string
	// Err says what is wrong.
	Err error
}

// Error implements error.
func (e *FileError) Error() string {
	if e.Category == "" {
		return fmt.Sprintf("aegis/legacy: %s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("aegis/legacy: category %q: %s: %v", e.Category, e.Path, e.Err)
}

// Unwrap returns Err.
func (e *FileError) Unwrap() error { return e.Err }

// entry is one category as read from disk.
type entry struct {
	name      string
	dekPath   string
	vaultPath string
	dek       sealed
	vault     vaultFile
}

// Vault is a legacy vault directory, read and checked but not yet decrypted.
type Vault struct {
	dir     string
	salt    []byte
	entries []entry // sorted by name
	ignored []string
}

// Open reads every file of the legacy vault in dir and checks its structure.
// It needs no passphrase and decrypts nothing. A directory that does not exist,
// or has no salt file, is an error wrapping domain.ErrNotFound; a vault without
// categories is domain.ErrInvalidInput; any problem with a file is a
// *FileError.
func Open(dir string) (*Vault, error) {
	root, err := os.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("aegis/legacy: %s does not exist: %w", dir, domain.ErrNotFound)
	}
	if err != nil {
		if fi, serr := os.Stat(dir); serr == nil && !fi.IsDir() {
			return nil, fmt.Errorf("aegis/legacy: %s is not a directory: %w", dir, domain.ErrInvalidInput)
		}
		return nil, fmt.Errorf("aegis/legacy: open %s: %w", dir, err)
	}
	defer root.Close()
	d, err := root.Open(".")
	if err != nil {
		return nil, fmt.Errorf("aegis/legacy: open %s: %w", dir, err)
	}
	list, err := d.ReadDir(-1)
	_ = d.Close()
	if err != nil {
		return nil, fmt.Errorf("aegis/legacy: list %s: %w", dir, err)
	}
	slices.SortFunc(list, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })

	v := &Vault{dir: dir}
	deks := map[string]fs.DirEntry{}
	vaults := map[string]fs.DirEntry{}
	var salt fs.DirEntry
	for _, e := range list {
		name := e.Name()
		switch {
		case name == SaltFile:
			salt = e
		case strings.HasPrefix(name, DEKPrefix):
			deks[strings.TrimPrefix(name, DEKPrefix)] = e
		case strings.HasSuffix(name, VaultSuffix):
			vaults[strings.TrimSuffix(name, VaultSuffix)] = e
		default:
			v.ignored = append(v.ignored, name)
		}
	}
	if salt == nil {
		return nil, fmt.Errorf("aegis/legacy: %s has no %s: it is not an aegis-cloak 0.1 vault: %w", dir, SaltFile, domain.ErrNotFound)
	}
	if len(vaults) == 0 && len(deks) == 0 {
		return nil, fmt.Errorf("aegis/legacy: %s holds no categories (no *%s files): %w", dir, VaultSuffix, domain.ErrInvalidInput)
	}
	if len(vaults) > MaxCategories {
		return nil, fmt.Errorf("aegis/legacy: %s holds %d categories, the limit is %d: %w", dir, len(vaults), MaxCategories, domain.ErrInvalidInput)
	}

	r := reader{root: root, dir: dir}
	b, err := r.read(salt, "", 1<<10)
	if err != nil {
		return nil, err
	}
	if v.salt, err = parseSalt(b); err != nil {
		return nil, r.fail(salt.Name(), "", err)
	}

	for _, name := range slices.Sorted(maps.Keys(deks)) {
		if _, ok := vaults[name]; !ok {
			return nil, r.fail(DEKPrefix+name, name, corrupt("a key file without its data file %s", name+VaultSuffix))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(vaults)) {
		vf := name + VaultSuffix
		if err := domain.ValidateCategory(name); err != nil {
			return nil, r.fail(vf, name, fmt.Errorf("not a valid Aegis category name: %w", err))
		}
		dk, ok := deks[name]
		if !ok {
			return nil, r.fail(vf, name, corrupt("no key file %s%s for this data file", DEKPrefix, name))
		}
		en := entry{name: name, dekPath: r.path(dk.Name()), vaultPath: r.path(vf)}
		if b, err = r.read(vaults[name], name, MaxVaultFileSize); err != nil {
			return nil, err
		}
		if en.vault, err = parseVaultFile(b); err != nil {
			return nil, r.fail(vf, name, err)
		}
		if en.vault.category != name {
			return nil, r.fail(vf, name, corrupt("the file says it holds category %q", en.vault.category))
		}
		if b, err = r.read(dk, name, MaxDEKFileSize); err != nil {
			return nil, err
		}
		if en.dek, err = parseDEKFile(b); err != nil {
			return nil, r.fail(dk.Name(), name, err)
		}
		v.entries = append(v.entries, en)
	}
	return v, nil
}

// reader reads the files of one directory through an os.Root, keeping count
// of the bytes read against MaxTotalSize.
type reader struct {
	root  *os.Root
	dir   string
	total int64
}

func (r *reader) path(name string) string { return filepath.Join(r.dir, name) }

func (r *reader) fail(name, category string, err error) error {
	return &FileError{Path: r.path(name), Category: category, Err: err}
}

// read returns the content of the directory entry e, a regular file of at
// most limit bytes. A symbolic link or any other kind of file is refused.
func (r *reader) read(e fs.DirEntry, category string, limit int64) ([]byte, error) {
	name := e.Name()
	if e.Type()&fs.ModeSymlink != 0 {
		return nil, r.fail(name, category, fmt.Errorf("is a symbolic link, which the importer does not follow (copy the file itself into the directory): %w", domain.ErrInvalidInput))
	}
	if !e.Type().IsRegular() {
		return nil, r.fail(name, category, fmt.Errorf("is not a regular file (%s): %w", e.Type(), domain.ErrInvalidInput))
	}
	info, err := e.Info()
	if err != nil {
		return nil, r.fail(name, category, err)
	}
	if info.Size() > limit {
		return nil, r.fail(name, category, fmt.Errorf("the file is %d bytes, more than the importer's %d-byte limit: %w", info.Size(), limit, domain.ErrInvalidInput))
	}
	f, err := r.root.Open(name)
	if err != nil {
		return nil, r.fail(name, category, err)
	}
	defer f.Close()
	got, err := f.Stat()
	if err != nil {
		return nil, r.fail(name, category, err)
	}
	if !os.SameFile(info, got) {
		return nil, r.fail(name, category, fmt.Errorf("the file was replaced while it was being read: %w", domain.ErrInvalidInput))
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, r.fail(name, category, err)
	}
	if int64(len(b)) > limit {
		return nil, r.fail(name, category, fmt.Errorf("the file grew beyond the importer's %d-byte limit while it was being read: %w", limit, domain.ErrInvalidInput))
	}
	r.total += int64(len(b))
	if r.total > MaxTotalSize {
		return nil, fmt.Errorf("aegis/legacy: %s holds more than %d bytes of key and vault files, the limit of one import: %w", r.dir, int64(MaxTotalSize), domain.ErrInvalidInput)
	}
	return b, nil
}

// Dir returns the directory given to Open.
func (v *Vault) Dir() string { return v.dir }

// Categories returns the names of the categories, sorted.
func (v *Vault) Categories() []string {
	names := make([]string, len(v.entries))
	for i, e := range v.entries {
		names[i] = e.name
	}
	return names
}

// Ignored returns the names of the directory's entries that are not part of
// the format (neither the salt file, nor a key file, nor a vault file), sorted.
func (v *Vault) Ignored() []string { return slices.Clone(v.ignored) }

// Category is one decrypted legacy category.
type Category struct {
	// Name is the category name (the stem of its .vault file).
	Name string
	// Value is the category's JSON value, compacted: the text Python wrote with
	// the insignificant white space removed (json.Compact). Numbers, string
	// escapes (\uXXXX) and member order are kept as Python wrote them.
	Value []byte
	// LegacySize is the plaintext size in the legacy vault (Python's indented
	// JSON), in bytes.
	LegacySize int
	// File is the path of the category's .vault file.
	File string
}

// Contents is everything a legacy vault holds, decrypted.
type Contents struct {
	// Categories are sorted by name.
	Categories []Category
}

// Destroy zeroes every value.
func (c *Contents) Destroy() {
	if c == nil {
		return
	}
	for i := range c.Categories {
		clear(c.Categories[i].Value)
		c.Categories[i].Value = nil
	}
}

// Decrypt derives the KEK from passphrase (once), opens every data key and
// decrypts and checks every category. See the package documentation for how a
// wrong passphrase is told from a corrupt key file. A value that is not JSON
// (Python writes NaN and Infinity, which JSON does not have) or not UTF-8 is a
// *FileError wrapping domain.ErrInvalidInput. Keys are zeroed before it
// returns (best effort: the AES key schedules inside crypto/aes cannot be
// reached).
func (v *Vault) Decrypt(passphrase []byte) (*Contents, error) {
	kek, err := kdf.Derive(passphrase, domain.KDFSpec{Name: domain.KDFPBKDF2SHA256, Iterations: Iterations, Salt: v.salt})
	if err != nil {
		return nil, fmt.Errorf("aegis/legacy: derive the key-encryption key: %w", err)
	}
	deks := make([]*secret.Key, len(v.entries))
	defer func() {
		for _, k := range deks {
			k.Destroy()
		}
	}()
	var failed []int
	for i, e := range v.entries {
		k, err := open(kek.Bytes(), e.dek)
		if err != nil {
			failed = append(failed, i)
			continue
		}
		if len(k) != DEKSize {
			// parseDEKFile checked the sealed length; kept as a guard.
			clear(k)
			kek.Destroy()
			return nil, &FileError{Path: e.dekPath, Category: e.name, Err: corrupt("the data key is %d bytes, want %d", len(k), DEKSize)}
		}
		deks[i] = secret.New(k)
		clear(k)
	}
	kek.Destroy()
	switch {
	case len(failed) == len(v.entries):
		return nil, fmt.Errorf("aegis/legacy: %s: no data key of its %d categories opens with this passphrase: %w", v.dir, len(v.entries), domain.ErrWrongPassphrase)
	case len(failed) > 0:
		e := v.entries[failed[0]]
		more := ""
		if len(failed) > 1 {
			more = fmt.Sprintf(" (and %d more key files)", len(failed)-1)
		}
		return nil, &FileError{Path: e.dekPath, Category: e.name, Err: corrupt(
			"the data key does not open although %d other categories' keys do: the key file was altered or is corrupt%s",
			len(v.entries)-len(failed), more)}
	}

	out := &Contents{Categories: make([]Category, 0, len(v.entries))}
	for i, e := range v.entries {
		c, err := decryptCategory(deks[i].Bytes(), e)
		deks[i].Destroy()
		if err != nil {
			out.Destroy()
			return nil, err
		}
		out.Categories = append(out.Categories, c)
	}
	return out, nil
}

// Read opens the legacy vault in dir and decrypts it: Open, then Decrypt.
func Read(dir string, passphrase []byte) (*Contents, error) {
	v, err := Open(dir)
	if err != nil {
		return nil, err
	}
	return v.Decrypt(passphrase)
}

// open opens an AES-256-GCM message of the legacy format under key.
func open(key []byte, s sealed) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return aead.Open(nil, s.nonce, s.ciphertext, nil)
}

func decryptCategory(dek []byte, e entry) (Category, error) {
	fail := func(err error) (Category, error) {
		return Category{}, &FileError{Path: e.vaultPath, Category: e.name, Err: err}
	}
	pt, err := open(dek, e.vault.encrypted)
	if err != nil {
		return fail(corrupt("the data does not decrypt with the category's key (message authentication failed): the file was altered or is corrupt"))
	}
	defer clear(pt)
	if int64(len(pt)) != e.vault.plaintextSize {
		// parseVaultFile checked this against the ciphertext; kept as a guard.
		return fail(corrupt("decrypted %d bytes, plaintext_size says %d", len(pt), e.vault.plaintextSize))
	}
	value, err := compactJSON(pt)
	if err != nil {
		return fail(err)
	}
	return Category{Name: e.name, Value: value, LegacySize: len(pt), File: e.vaultPath}, nil
}
