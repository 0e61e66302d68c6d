package vault

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/ai-pantheon/aegis/domain"
)

// The vault header is the one object stored with plaintext fields. Layout (all
// integers big-endian):
//
//	"AEGISVLT"          8  magic
//	body length N        2
//	SHA-256(body)       32  tells corruption apart from a wrong passphrase
//	body                 N
//	zero bytes up to the object size chosen by the padding policy
//
// body (format version 1):
//
//	version = 1          1
//	KDF id               1  1 = pbkdf2-sha256, 2 = argon2id
//	p1                   4  iterations | argon2 time
//	p2                   4  0          | argon2 memory in KiB
//	p3                   1  0          | argon2 threads
//	salt length L        1  16..64
//	salt                 L
//	key-check value     32
//	root length R        2
//	sealed root          R  AEAD under the KEK, associated data =
//	                        "aegis/v1 root" || header object id || body[:offset of R]
const (
	headerMagic   = "AEGISVLT"
	headerPrefix  = len(headerMagic) + 2 + sha256.Size
	formatVersion = 1
	kcvSize       = 32
	minSaltLen    = 16
	maxSaltLen    = 64
)

var kdfIDs = map[string]byte{domain.KDFPBKDF2SHA256: 1, domain.KDFArgon2id: 2}

// header is the decoded vault header.
type header struct {
	kdf  domain.KDFSpec
	kcv  []byte
	root []byte // sealed
	// fields are the body bytes before the root length: with the header id they
	// are the root's associated data (rootAD).
	fields []byte
}

// encodeHeaderFields returns the body up to (not including) the root length, which is
// also, with the header id, the root's associated data (see rootAD).
func encodeHeaderFields(spec domain.KDFSpec, kcv []byte) ([]byte, error) {
	id, ok := kdfIDs[spec.Name]
	if !ok {
		return nil, fmt.Errorf("%w: unknown KDF %q", domain.ErrInvalidInput, spec.Name)
	}
	if len(spec.Salt) < minSaltLen || len(spec.Salt) > maxSaltLen || len(kcv) != kcvSize {
		return nil, fmt.Errorf("%w: salt of %d bytes or key check of %d bytes", domain.ErrInvalidInput, len(spec.Salt), len(kcv))
	}
	b := make([]byte, 0, 64+len(spec.Salt))
	b = append(b, formatVersion, id)
	switch spec.Name {
	case domain.KDFPBKDF2SHA256:
		b = binary.BigEndian.AppendUint32(b, spec.Iterations)
		b = binary.BigEndian.AppendUint32(b, 0)
		b = append(b, 0)
	case domain.KDFArgon2id:
		b = binary.BigEndian.AppendUint32(b, spec.Time)
		b = binary.BigEndian.AppendUint32(b, spec.MemoryKiB)
		b = append(b, spec.Threads)
	}
	b = append(b, byte(len(spec.Salt)))
	b = append(b, spec.Salt...)
	b = append(b, kcv...)
	return b, nil
}

// rootAD is the associated data of the sealed root: the label, the header's
// object id (which names the vault in its store, so the header of one named vault
// copied over another's is refused) and the header fields.
func rootAD(headerID domain.ObjectID, fields []byte) []byte {
	b := append([]byte("aegis/v1 root"), headerID[:]...)
	return append(b, fields...)
}

// encodeHeader lays out a complete header object padded to a size from policy.
func encodeHeader(fields, sealedRoot []byte, policy domain.PaddingPolicy) ([]byte, error) {
	if len(sealedRoot) > 0xffff {
		return nil, fmt.Errorf("%w: vault root of %d bytes does not fit the header", domain.ErrInvalidInput, len(sealedRoot))
	}
	n := len(fields) + 2 + len(sealedRoot)
	size, ok := policy.Size(headerPrefix + n)
	if !ok || n > 0xffff {
		return nil, fmt.Errorf("%w: vault header of %d bytes exceeds the largest object", domain.ErrInvalidInput, headerPrefix+n)
	}
	obj := make([]byte, size)
	copy(obj, headerMagic)
	binary.BigEndian.PutUint16(obj[8:], uint16(n))
	body := obj[headerPrefix : headerPrefix+n]
	copy(body, fields)
	binary.BigEndian.PutUint16(body[len(fields):], uint16(len(sealedRoot)))
	copy(body[len(fields)+2:], sealedRoot)
	sum := sha256.Sum256(body)
	copy(obj[10:], sum[:])
	return obj, nil
}

// decodeHeader parses a header object. It checks the magic, the checksum (a mismatch
// is ErrIntegrity), the version (ErrUnsupportedVersion), every length and the zero
// padding. It does not check KDF parameter ranges; Crypto.CheckKDF does.
func decodeHeader(obj []byte) (*header, error) {
	if len(obj) < domain.MinObjectSize || len(obj) > domain.MaxObjectSize {
		return nil, fmt.Errorf("%w: vault header: object of %d bytes is not an object size", domain.ErrIntegrity, len(obj))
	}
	if string(obj[:8]) != headerMagic {
		return nil, fmt.Errorf("%w: vault header: not an Aegis vault header", domain.ErrIntegrity)
	}
	n := int(binary.BigEndian.Uint16(obj[8:]))
	if headerPrefix+n > len(obj) {
		return nil, fmt.Errorf("%w: vault header: body length %d exceeds the object", domain.ErrIntegrity, n)
	}
	body := obj[headerPrefix : headerPrefix+n]
	sum := sha256.Sum256(body)
	if !bytes.Equal(sum[:], obj[10:headerPrefix]) {
		return nil, fmt.Errorf("%w: vault header: checksum mismatch (the header is corrupted)", domain.ErrIntegrity)
	}
	for _, c := range obj[headerPrefix+n:] {
		if c != 0 {
			return nil, fmt.Errorf("%w: vault header: padding is not zero", domain.ErrIntegrity)
		}
	}
	if n < 1 {
		return nil, fmt.Errorf("%w: vault header: empty body", domain.ErrIntegrity)
	}
	if body[0] != formatVersion {
		return nil, fmt.Errorf("%w: vault header version %d (this build reads version %d)", domain.ErrUnsupportedVersion, body[0], formatVersion)
	}
	r := reader{b: body[1:]}
	id := r.u8()
	p1, p2, p3 := r.u32(), r.u32(), r.u8()
	saltLen := int(r.u8())
	if !r.ok() || saltLen < minSaltLen || saltLen > maxSaltLen {
		return nil, fmt.Errorf("%w: vault header: salt length %d outside [%d, %d]", domain.ErrIntegrity, saltLen, minSaltLen, maxSaltLen)
	}
	salt := r.bytes(saltLen)
	kcv := r.bytes(kcvSize)
	fieldsEnd := n - len(r.b)
	rootLen := int(r.u16())
	root := r.bytes(rootLen)
	if !r.ok() || len(r.b) != 0 {
		return nil, fmt.Errorf("%w: vault header: malformed body", domain.ErrIntegrity)
	}
	h := &header{kcv: kcv, root: root, fields: body[:fieldsEnd]}
	switch id {
	case 1:
		if p2 != 0 || p3 != 0 {
			return nil, fmt.Errorf("%w: vault header: pbkdf2 with argon2 parameters", domain.ErrIntegrity)
		}
		h.kdf = domain.KDFSpec{Name: domain.KDFPBKDF2SHA256, Iterations: p1, Salt: salt}
	case 2:
		h.kdf = domain.KDFSpec{Name: domain.KDFArgon2id, Time: p1, MemoryKiB: p2, Threads: p3, Salt: salt}
	default:
		return nil, fmt.Errorf("%w: vault header names KDF id %d", domain.ErrUnsupportedVersion, id)
	}
	return h, nil
}

// DecodeHeader parses an untrusted header object and reports its KDF spec. It is
// exported for fuzzing and inspection tools; it never needs a passphrase.
func DecodeHeader(obj []byte) (domain.KDFSpec, error) {
	h, err := decodeHeader(obj)
	if err != nil {
		return domain.KDFSpec{}, err
	}
	return h.kdf, nil
}

// reader consumes big-endian fields and remembers whether it ran short.
type reader struct {
	b     []byte
	short bool
}

func (r *reader) ok() bool { return !r.short }

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.short = true
		r.b = nil
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() byte {
	if b := r.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if b := r.bytes(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if b := r.bytes(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if b := r.bytes(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}
