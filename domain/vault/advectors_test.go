package vault

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/ai-pantheon/aegis/domain"
)

// Known answers of what every sealed object is bound to, and of the other bytes
// the format derives (issue #19): fixed inputs, and the expected bytes written out
// field by field as docs/format.md lays them out ("Associated data", "The vault
// header", "Objects"). The expected values were computed once outside this code (a
// few lines of Python's hashlib and hmac for the hashes) and must never change: a
// change here is a change of the format, and the vaults already written stop
// opening. TestFormatVectorVault catches the same changes on a real vault.

// unhex decodes hex written with spaces and line breaks between the fields.
func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seq returns n bytes counting up from first: the fixed inputs of the vectors.
func seq(first byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = first + byte(i)
	}
	return b
}

func TestAssociatedDataVectors(t *testing.T) {
	var (
		vaultID  = [32]byte(seq(0x00, 32))
		objectID = domain.ObjectID(seq(0x20, 32))
		slot     = [16]byte(seq(0x40, 16))
		headerID = domain.ObjectID(seq(0x60, 32))
		salt     = seq(0x80, 16)
		kcv      = seq(0xc0, 32)
	)
	const (
		vaultIDHex  = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		objectIDHex = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
		slotHex     = "404142434445464748494a4b4c4d4e4f"
		headerIDHex = "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
		saltHex     = "808182838485868788898a8b8c8d8e8f"
		kcvHex      = "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
		// The header fields of a PBKDF2 vault with 600,000 iterations.
		pbkdf2FieldsHex = "01" + // format version 1
			"01" + // KDF id: pbkdf2-sha256
			"000927c0" + // p1: 600000 iterations
			"00000000" + // p2
			"00" + // p3
			"10" + // salt length 16
			saltHex + kcvHex
	)
	pbkdf2 := domain.KDFSpec{Name: domain.KDFPBKDF2SHA256, Iterations: 600_000, Salt: salt}
	pbkdf2Fields, err := encodeHeaderFields(pbkdf2, kcv)
	if err != nil {
		t.Fatal(err)
	}
	argon2 := domain.KDFSpec{Name: domain.KDFArgon2id, Time: 3, MemoryKiB: 64 * 1024, Threads: 4, Salt: seq(0x80, 32)}
	argon2Fields, err := encodeHeaderFields(argon2, kcv)
	if err != nil {
		t.Fatal(err)
	}
	e := &entry{slot: slot, generation: 0x0a0b0c0d, version: 0x1112131415161718}

	for _, c := range []struct {
		name string
		got  []byte
		want string
	}{
		{
			"chunk: prefix, object id, index, not final",
			chunkAD([]byte("P"))(objectID, 0x31323334, false),
			"50" + // "P"
				objectIDHex +
				"31323334" + // u32 index
				"00", // not final
		},
		{
			"chunk: first and final",
			chunkAD([]byte("P"))(objectID, 0, true),
			"50" + objectIDHex + "00000000" + "01",
		},
		{
			"data chunk 5",
			dataAD(vaultID, e)(objectID, 5, false),
			"61656769732f76312064617461" + // "aegis/v1 data"
				vaultIDHex +
				slotHex +
				"0a0b0c0d" + // u32 generation
				"1112131415161718" + // u64 version
				objectIDHex +
				"00000005" + // u32 index
				"00", // not final
		},
		{
			"manifest chunk 1, final",
			manifestAD(vaultID, 0x2122232425262728)(objectID, 1, true),
			"61656769732f7631206d616e6966657374" + // "aegis/v1 manifest"
				vaultIDHex +
				"2122232425262728" + // u64 epoch
				objectIDHex +
				"00000001" + // u32 index
				"01", // final
		},
		{
			"wrapped data key",
			dekAD(vaultID, slot, 0x0a0b0c0d),
			"61656769732f76312064656b" + // "aegis/v1 dek"
				vaultIDHex +
				slotHex +
				"0a0b0c0d", // u32 generation
		},
		{
			"header fields: pbkdf2-sha256",
			pbkdf2Fields,
			pbkdf2FieldsHex,
		},
		{
			"header fields: argon2id",
			argon2Fields,
			"01" + // format version 1
				"02" + // KDF id: argon2id
				"00000003" + // p1: time
				"00010000" + // p2: 65536 KiB
				"04" + // p3: threads
				"20" + // salt length 32
				"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f" +
				kcvHex,
		},
		{
			"root",
			rootAD(headerID, pbkdf2Fields),
			"61656769732f763120726f6f74" + // "aegis/v1 root"
				headerIDHex +
				pbkdf2FieldsHex,
		},
	} {
		if want := unhex(t, c.want); !bytes.Equal(c.got, want) {
			t.Errorf("%s:\n got %x\nwant %x", c.name, c.got, want)
		}
	}

	// The whole header object around a 4-byte sealed root, in a 512-byte bucket.
	policy, err := domain.NewBuckets([]int{512})
	if err != nil {
		t.Fatal(err)
	}
	obj, err := encodeHeader(pbkdf2Fields, []byte{0xde, 0xad, 0xbe, 0xef}, policy)
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, "4145474953564c54"+ // "AEGISVLT"
		"0042"+ // u16 body length 66
		"5b21742d0be88d4036c47013c25a00cacba0ab6a4d748741c26984f176989653"+ // SHA-256(body)
		pbkdf2FieldsHex+
		"0004"+ // u16 sealed root length
		"deadbeef") // sealed root
	want = append(want, make([]byte, 512-len(want))...) // zero padding
	if !bytes.Equal(obj, want) {
		t.Errorf("header object:\n got %x\nwant %x", obj, want)
	}

	// The ids the format derives.
	for _, c := range []struct {
		name string
		got  domain.ObjectID
		want string
	}{
		// SHA-256("aegis/v1 vault header\x00" || name)
		{"header id of the default vault", HeaderID(""), "6dd1da0cdc458d90f3bbaa49405269fb09db30b1b54be85d8d63c050646626bf"},
		{"header id of the vault \"work\"", HeaderID("work"), "3b30dca666956efa0b424e7674acfa833b0abc226b902ae4dc2affdb906d958d"},
		// HKDF-SHA256(locator f0..ff, salt = "work", info = "aegis/v1 header id")
		{"located header id", LocatedHeaderID(seq(0xf0, 16), "work"), "ca8c7cac12c32476318930d77c0056e5615f4c1dc4f00481ae64a219a616865e"},
		// r = HMAC-SHA256(seed a0..bf, label || u32 i)[:16];
		// id = r || HMAC-SHA256(HKDF-SHA256(vault id, info = "aegis/v1 object ownership"), "aegis/v1 object id" || r)[:16]
		{"data object id 3", (&write{seed: [32]byte(seq(0xa0, 32)), own: ownershipKey(vaultID)}).id(labelData, 3),
			"4f8647ee54b38fd10d6c837732d30c8a" + "81371aa9336a6d64571a6ffda715e7dc"},
		{"manifest object id 0", (&write{seed: [32]byte(seq(0xa0, 32)), own: ownershipKey(vaultID)}).id(labelManifest, 0),
			"df623e4e181a01c1073e7cdb801ed871" + "b103e90cb5ba796a06dead56d6ac44ab"},
	} {
		if c.got.String() != c.want {
			t.Errorf("%s = %s, want %s", c.name, c.got, c.want)
		}
	}
}

// TestRootWithIntentVector pins the root plaintext with a pending write listed,
// which the committed vault (written on a store with a writer lock) does not have.
func TestRootWithIntentVector(t *testing.T) {
	r := &root{
		vaultID:       [32]byte(seq(0x00, 32)),
		epoch:         9,
		manifestEpoch: 8,
		size:          1234,
		manifest:      []chunkRef{{id: domain.ObjectID(seq(0x20, 32)), size: 1024}},
		pending: []intent{{
			seed:   [32]byte(seq(0xa0, 32)),
			data:   3,
			owner:  [16]byte(seq(0xe0, 16)),
			time:   1_700_000_000,
			holder: []byte("host:42"),
		}},
	}
	want := unhex(t, "02"+ // root version 2
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"+ // vault id
		"0000000000000009"+ // u64 epoch
		"0000000000000008"+ // u64 manifest epoch
		"00000000000004d2"+ // u64 manifest size 1234
		"00000001"+ // u32 manifest chunks
		"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"+"00000400"+ // id, u32 size 1024
		"0001"+ // u16 intents
		"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"+ // seed
		"00000003"+ // u32 data objects
		"e0e1e2e3e4e5e6e7e8e9eaebecedeeef"+ // owner
		"000000006553f100"+ // u64 time 1700000000
		"07"+"686f73743a3432") // holder "host:42"
	if got := r.encode(); !bytes.Equal(got, want) {
		t.Fatalf("root:\n got %x\nwant %x", got, want)
	}
	back, err := decodeRoot(want)
	if err != nil || len(back.pending) != 1 || back.pending[0].time != 1_700_000_000 || string(back.pending[0].holder) != "host:42" {
		t.Fatalf("decodeRoot = %+v, %v", back, err)
	}
}
