package local_test

import (
	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain"
)

// testCrypto is the real suite under kdf.InsecureTestPolicy: the same primitives
// with cheap KDF parameters, so the specs run fast. One spec checks that the
// default policy refuses such a vault.
func testCrypto() domain.Crypto { return suite.New(kdf.InsecureTestPolicy()) }
