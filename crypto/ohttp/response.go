package ohttp

import (
	"crypto/cipher"

	"github.com/cloudflare/circl/hpke"
)

// The HPKE info prefix and exporter context of RFC 9458 sections 4.3 and 4.4,
// for Binary HTTP messages.
const (
	requestLabel  = "message/bhttp request"
	responseLabel = "message/bhttp response"
)

// requestInfo returns the HPKE info of a request: "message/bhttp request", a
// zero byte and the header (RFC 9458 section 4.3).
func requestInfo(hdr []byte) []byte {
	info := make([]byte, 0, len(requestLabel)+1+len(hdr))
	info = append(info, requestLabel...)
	info = append(info, 0)
	return append(info, hdr...)
}

// header returns the 7-byte header of a request to key id with the supported
// suite: key_id, kem_id, kdf_id, aead_id.
func header(keyID uint8) [headerSize]byte {
	return [headerSize]byte{
		keyID,
		byte(KEMX25519 >> 8), byte(KEMX25519),
		byte(KDFHKDFSHA256 >> 8), byte(KDFHKDFSHA256),
		byte(AEADAES128GCM >> 8), byte(AEADAES128GCM),
	}
}

// responseKeys derives the AEAD key and nonce that protect an Encapsulated
// Response (RFC 9458 section 4.4) from the HPKE context of the request, the
// request's enc and the response nonce:
//
//	secret = context.Export("message/bhttp response", max(Nn, Nk))
//	salt = concat(enc, response_nonce)
//	prk = Extract(salt, secret)
//	aead_key = Expand(prk, "key", Nk)
//	aead_nonce = Expand(prk, "nonce", Nn)
func responseKeys(ctx hpke.Context, enc, responseNonce []byte) (key, nonce []byte) {
	secret := ctx.Export([]byte(responseLabel), responseNonceSize)
	defer clear(secret)
	salt := make([]byte, 0, len(enc)+len(responseNonce))
	salt = append(append(salt, enc...), responseNonce...)
	kdf := hpke.KDF_HKDF_SHA256
	prk := kdf.Extract(secret, salt) // HKDF-Extract(salt, IKM = secret)
	defer clear(prk)
	return kdf.Expand(prk, []byte("key"), aeadKeySize), kdf.Expand(prk, []byte("nonce"), aeadNonceSize)
}

// responseAEAD returns the AES-128-GCM instance and nonce of responseKeys.
func responseAEAD(ctx hpke.Context, enc, responseNonce []byte) (cipher.AEAD, []byte, error) {
	key, nonce := responseKeys(ctx, enc, responseNonce)
	defer clear(key)
	aead, err := hpke.AEAD_AES128GCM.New(key)
	if err != nil {
		return nil, nil, wrap(ErrMalformed, "response key: %v", err)
	}
	return aead, nonce, nil
}
