package domain

// SealChunk pads payload into the frame of obj and seals obj in place, so that obj
// becomes one stored object of exactly len(obj) bytes. The payload must fit:
// len(payload) <= FrameCapacity(len(obj), aead.Overhead()). If payload already
// sits at obj[aead.PrefixSize()+FrameHeaderSize:] it is not copied, which is how
// the Vault reads payloads: straight into the object buffer. SealChunk does not
// allocate.
func SealChunk(aead AEAD, obj, payload, ad []byte) {
	pre, tag := aead.PrefixSize(), aead.Overhead()-aead.PrefixSize()
	if len(obj) < aead.Overhead()+FrameHeaderSize || len(payload) > FrameCapacity(len(obj), aead.Overhead()) {
		panic("aegis: SealChunk: payload does not fit the object")
	}
	EncodeFrame(obj[pre:len(obj)-tag], payload)
	aead.SealInPlace(obj, ad)
}

// OpenChunk authenticates and decrypts obj in place and returns the payload inside
// its frame. Any failure wraps ErrIntegrity.
func OpenChunk(aead AEAD, obj, ad []byte) ([]byte, error) {
	pre := aead.PrefixSize()
	if len(obj) < aead.Overhead()+FrameHeaderSize {
		return nil, errShortObject
	}
	pt, err := aead.Open(obj[pre:pre], obj, ad)
	if err != nil {
		return nil, err
	}
	return DecodeFrame(pt)
}
