package vault

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/ai-pantheon/aegis/domain"
)

// chunkRef names one stored object and its size.
type chunkRef struct {
	id   domain.ObjectID
	size uint32
}

// root is the sealed part of the header. Format version 2 (version 1 roots, which
// lack the manifest epoch and the pending list, are still read):
//
//	version = 2      1
//	vault id        32  random; binds every object's associated data to this vault
//	epoch            8  header counter, incremented by every header write
//	manifest epoch   8  the epoch the manifest was sealed at (its associated data)
//	manifest size    8  plaintext bytes of the manifest
//	count m          4
//	m × (object id 32, size 4)   the manifest chunks, in order
//	count p          2
//	p × intent       the writes under way (see intent)
type root struct {
	vaultID       [32]byte
	epoch         uint64
	manifestEpoch uint64
	size          uint64 // manifest plaintext bytes
	manifest      []chunkRef
	pending       []intent
}

const (
	rootVersion1 = 1
	rootVersion  = 2
	// maxPending bounds the pending list. A write that finds it full and nothing in
	// it stale fails with ErrBusy.
	maxPending = 64
)

func (r *root) encode() []byte {
	b := make([]byte, 0, 64+36*len(r.manifest)+80*len(r.pending))
	b = append(b, rootVersion)
	b = append(b, r.vaultID[:]...)
	b = binary.BigEndian.AppendUint64(b, r.epoch)
	b = binary.BigEndian.AppendUint64(b, r.manifestEpoch)
	b = binary.BigEndian.AppendUint64(b, r.size)
	b = appendChunks(b, r.manifest)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.pending)))
	for _, p := range r.pending {
		b = p.append(b)
	}
	return b
}

func decodeRoot(b []byte) (*root, error) {
	rd := reader{b: b}
	version := rd.u8()
	if !rd.ok() || (version != rootVersion && version != rootVersion1) {
		return nil, fmt.Errorf("%w: vault root version", domain.ErrIntegrity)
	}
	r := &root{}
	copy(r.vaultID[:], rd.bytes(32))
	r.epoch = rd.u64()
	r.manifestEpoch = r.epoch
	if version == rootVersion {
		r.manifestEpoch = rd.u64()
	}
	r.size = rd.u64()
	r.manifest = readChunks(&rd)
	if version == rootVersion {
		n := int(rd.u16())
		if n > maxPending {
			return nil, fmt.Errorf("%w: vault root lists %d pending writes", domain.ErrIntegrity, n)
		}
		for range n {
			p, ok := readIntent(&rd)
			if !ok {
				break
			}
			r.pending = append(r.pending, p)
		}
	}
	if !rd.ok() || len(rd.b) != 0 || len(r.manifest) == 0 || r.manifestEpoch > r.epoch {
		return nil, fmt.Errorf("%w: vault root is malformed", domain.ErrIntegrity)
	}
	return r, nil
}

func appendChunks(b []byte, cs []chunkRef) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(cs)))
	for _, c := range cs {
		b = append(b, c.id[:]...)
		b = binary.BigEndian.AppendUint32(b, c.size)
	}
	return b
}

// maxChunks bounds the chunk count a decoder accepts before allocating.
const maxChunks = 1 << 24

func readChunks(rd *reader) []chunkRef {
	n := rd.u32()
	if !rd.ok() || n > maxChunks || uint64(n)*36 > uint64(len(rd.b)) {
		rd.short = true
		return nil
	}
	cs := make([]chunkRef, n)
	for i := range cs {
		copy(cs[i].id[:], rd.bytes(32))
		cs[i].size = rd.u32()
	}
	return cs
}

// entry is one category in the manifest.
type entry struct {
	name       string
	slot       [16]byte // random; binds the DEK and the data to this category
	generation uint32   // DEK generation, incremented by RotateKey
	version    uint64   // write counter, incremented by every Store of the category
	size       uint64   // plaintext bytes
	wrappedDEK []byte
	chunks     []chunkRef
}

// manifest is the encrypted index of the vault. Layout of its plaintext (format
// version 2; version 1 has no garbage list):
//
//	"AEGM"           4
//	version = 2      1
//	epoch            8  must equal the root's epoch
//	count            4
//	per category, sorted by name:
//	  name length 2, name (UTF-8, no NUL)
//	  slot 16, generation 4, version 8, plaintext size 8
//	  wrapped DEK length 2, wrapped DEK
//	  chunk count 4, chunks × (object id 32, size 4)
//	garbage count    4
//	garbage × object id 32   objects this manifest's commit made unreferenced
//
// The garbage list lets the next writer delete what the commit made obsolete when
// the committing writer could not (it was killed, or never learnt that its commit
// took effect).
type manifest struct {
	epoch      uint64
	categories map[string]*entry
	garbage    []domain.ObjectID
}

const (
	manifestMagic    = "AEGM"
	manifestVersion1 = 1
	manifestVersion  = 2
)

func (m *manifest) sortedNames() []string {
	names := make([]string, 0, len(m.categories))
	for n := range m.categories {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (m *manifest) encode() []byte {
	b := make([]byte, 0, 64+len(m.categories)*160)
	b = append(b, manifestMagic...)
	b = append(b, manifestVersion)
	b = binary.BigEndian.AppendUint64(b, m.epoch)
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.categories)))
	for _, name := range m.sortedNames() {
		e := m.categories[name]
		b = binary.BigEndian.AppendUint16(b, uint16(len(name)))
		b = append(b, name...)
		b = append(b, e.slot[:]...)
		b = binary.BigEndian.AppendUint32(b, e.generation)
		b = binary.BigEndian.AppendUint64(b, e.version)
		b = binary.BigEndian.AppendUint64(b, e.size)
		b = binary.BigEndian.AppendUint16(b, uint16(len(e.wrappedDEK)))
		b = append(b, e.wrappedDEK...)
		b = appendChunks(b, e.chunks)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.garbage)))
	for _, id := range m.garbage {
		b = append(b, id[:]...)
	}
	return b
}

// decodeManifest parses the plaintext of a manifest. Even though it was
// authenticated, it is parsed strictly: every length is checked, names must be
// valid category names, sorted and unique, and chunk sizes must lie within
// [MinObjectSize, MaxObjectSize]. Reading does not depend on the padding policy
// the objects were written with.
func decodeManifest(b []byte) (*manifest, error) {
	bad := func(what string) error {
		return fmt.Errorf("%w: manifest: %s", domain.ErrIntegrity, what)
	}
	rd := reader{b: b}
	if string(rd.bytes(4)) != manifestMagic {
		return nil, bad("bad magic")
	}
	version := rd.u8()
	if version != manifestVersion && version != manifestVersion1 {
		if !rd.ok() {
			return nil, bad("truncated")
		}
		return nil, fmt.Errorf("%w: manifest version %d", domain.ErrUnsupportedVersion, version)
	}
	m := &manifest{epoch: rd.u64(), categories: map[string]*entry{}}
	n := rd.u32()
	if !rd.ok() || uint64(n)*70 > uint64(len(rd.b)) {
		return nil, bad("category count exceeds the data")
	}
	prev := ""
	for i := uint32(0); i < n; i++ {
		e := &entry{}
		e.name = string(rd.bytes(int(rd.u16())))
		copy(e.slot[:], rd.bytes(16))
		e.generation = rd.u32()
		e.version = rd.u64()
		e.size = rd.u64()
		e.wrappedDEK = rd.bytes(int(rd.u16()))
		e.chunks = readChunks(&rd)
		if !rd.ok() {
			return nil, bad("truncated")
		}
		if err := domain.ValidateCategory(e.name); err != nil {
			return nil, bad("invalid category name")
		}
		if i > 0 && strings.Compare(prev, e.name) >= 0 {
			return nil, bad("categories are not sorted and unique")
		}
		prev = e.name
		if len(e.chunks) == 0 {
			return nil, bad("category without chunks")
		}
		for _, c := range e.chunks {
			if c.size < domain.MinObjectSize || c.size > domain.MaxObjectSize {
				return nil, bad(fmt.Sprintf("chunk size %d is outside [%d, %d]", c.size, domain.MinObjectSize, domain.MaxObjectSize))
			}
		}
		m.categories[e.name] = e
	}
	if version == manifestVersion {
		n := rd.u32()
		if !rd.ok() || uint64(n)*32 != uint64(len(rd.b)) {
			return nil, bad("garbage list does not match the data")
		}
		m.garbage = make([]domain.ObjectID, n)
		for i := range m.garbage {
			copy(m.garbage[i][:], rd.bytes(32))
		}
	}
	if len(rd.b) != 0 {
		return nil, bad("trailing bytes")
	}
	return m, nil
}

// DecodeManifest parses an untrusted manifest plaintext. It is exported for fuzzing; it
// returns the category names it found.
func DecodeManifest(b []byte) ([]string, error) {
	m, err := decodeManifest(b)
	if err != nil {
		return nil, err
	}
	return m.sortedNames(), nil
}

// clone returns a copy of m whose category map can be edited; entries are shared
// and must be replaced, never mutated.
func (m *manifest) clone() *manifest {
	c := &manifest{epoch: m.epoch, categories: make(map[string]*entry, len(m.categories))}
	for k, v := range m.categories {
		c.categories[k] = v
	}
	return c
}
