package ohttp

import (
	"bytes"
	"crypto/ecdh"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/cloudflare/circl/hpke"
)

// hexBytes is a JSON string of hex digits.
type hexBytes []byte

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := hex.DecodeString(s)
	*h = v
	return err
}

// rfc9458Vector is the example of RFC 9458 Appendix A (testdata/rfc9458.json).
type rfc9458Vector struct {
	Source               string   `json:"source"`
	KeyID                uint8    `json:"key_id"`
	SkR                  hexBytes `json:"skR"`
	KeyConfig            hexBytes `json:"key_config"`
	Request              hexBytes `json:"request"`
	SkE                  hexBytes `json:"skE"`
	PkE                  hexBytes `json:"pkE"`
	Info                 hexBytes `json:"info"`
	EncapsulatedRequest  hexBytes `json:"encapsulated_request"`
	Response             hexBytes `json:"response"`
	ExportedSecret       hexBytes `json:"exported_secret"`
	Salt                 hexBytes `json:"salt"`
	PRK                  hexBytes `json:"prk"`
	AEADKey              hexBytes `json:"aead_key"`
	AEADNonce            hexBytes `json:"aead_nonce"`
	ResponseNonce        hexBytes `json:"response_nonce"`
	EncapsulatedResponse hexBytes `json:"encapsulated_response"`
}

func loadRFC9458(t testing.TB) rfc9458Vector {
	t.Helper()
	b, err := os.ReadFile("testdata/rfc9458.json")
	if err != nil {
		t.Fatal(err)
	}
	var v rfc9458Vector
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("rfc9458.json: %v", err)
	}
	return v
}

// rfcGateway returns a gateway holding the RFC's key.
func rfcGateway(t testing.TB, v rfc9458Vector) (*Gateway, *GatewayKey) {
	t.Helper()
	k, err := NewGatewayKey(v.KeyID, v.SkR)
	if err != nil {
		t.Fatal(err)
	}
	return NewGateway(k), k
}

// rfcSetup is a Client.setup hook that reproduces the RFC's sending context.
// circl's Sender derives its ephemeral key from a seed (DeriveKeyPair) and
// cannot take the RFC's skE; so the hook returns the RFC's enc (pkE) and a
// sealer whose key schedule is the one the RFC's skE gives: that of a fresh
// receiving context for the RFC's enc, info and skR (HPKE's key schedule is
// the same on both sides), serialized by circl and restored in the sender
// role.
func rfcSetup(t testing.TB, v rfc9458Vector, k *GatewayKey) func(*hpke.Sender) ([]byte, hpke.Sealer, error) {
	return func(*hpke.Sender) ([]byte, hpke.Sealer, error) {
		r, err := supportedSuite.NewReceiver(k.priv.sk, v.Info)
		if err != nil {
			return nil, nil, err
		}
		opener, err := r.Setup(v.PkE)
		if err != nil {
			return nil, nil, err
		}
		raw, err := opener.MarshalBinary()
		if err != nil {
			return nil, nil, err
		}
		raw[0] = 0 // role: sealer
		sealer, err := hpke.UnmarshalSealer(raw)
		return bytes.Clone(v.PkE), sealer, err
	}
}

// TestRFC9458AppendixA checks the complete example of RFC 9458 Appendix A.
//
// Byte for byte:
//   - the key configuration: the RFC's bytes parse to key id 1, KEM 0x0020, the
//     public key of the RFC's private key (computed by NewGatewayKey) and the
//     suites (0x0001, 0x0001) and (0x0001, 0x0003), and re-encode to the same
//     bytes; a KeyConfig built from NewGatewayKey's public key with those suites
//     encodes to them too; the key's own Config (one suite) differs only in the
//     suites;
//   - the HPKE info of the request;
//   - the gateway: decapsulating the RFC's Encapsulated Request with the RFC's
//     private key gives the RFC's request; the exported secret, AEAD key and
//     AEAD nonce of the response are the RFC's; with the RFC's response nonce,
//     EncapsulateResponse of the RFC's response gives the RFC's Encapsulated
//     Response;
//   - the client, from the RFC's key configuration: the header, and, with the
//     RFC's sending context injected (rfcSetup), the whole Encapsulated Request;
//     on that context, DecapsulateResponse of the RFC's Encapsulated Response
//     gives the RFC's response.
//
// Not byte for byte: the client's own KEM encapsulation. circl derives the
// ephemeral key pair from a random seed and takes no ephemeral private key, so
// the RFC's skE cannot be used: the client test injects the RFC's enc and a
// sending context restored from the gateway's key schedule. The test checks
// that skE's X25519 public key is the RFC's enc, and a client with its own
// random ephemeral key still makes the RFC's header, a request the gateway
// opens to the RFC's request, and reads the gateway's response.
func TestRFC9458AppendixA(t *testing.T) {
	v := loadRFC9458(t)
	g, k := rfcGateway(t, v)

	// Key configuration.
	cfg, err := ParseKeyConfig(v.KeyConfig)
	if err != nil {
		t.Fatalf("ParseKeyConfig(RFC): %v", err)
	}
	wantSuites := []SymmetricSuite{{KDF: 1, AEAD: 1}, {KDF: 1, AEAD: 3}}
	if cfg.KeyID != 1 || cfg.KEM != 0x0020 || !bytes.Equal(cfg.PublicKey, k.Config().PublicKey) ||
		len(cfg.Suites) != 2 || cfg.Suites[0] != wantSuites[0] || cfg.Suites[1] != wantSuites[1] {
		t.Fatalf("RFC configuration parsed to %+v; public key of skR %x", cfg, k.Config().PublicKey)
	}
	if b, err := cfg.MarshalBinary(); err != nil || !bytes.Equal(b, v.KeyConfig) {
		t.Fatalf("RFC configuration re-encodes to %x (%v)", b, err)
	}
	fromKey := k.Config()
	fromKey.Suites = wantSuites
	if b, err := fromKey.MarshalBinary(); err != nil || !bytes.Equal(b, v.KeyConfig) {
		t.Fatalf("configuration from skR with the RFC's suites: %x (%v), want %x", b, err, []byte(v.KeyConfig))
	}
	own, err := k.Config().MarshalBinary()
	wantOwn := append(bytes.Clone(v.KeyConfig[:1+2+32]), 0, 4, 0, 1, 0, 1)
	if err != nil || !bytes.Equal(own, wantOwn) {
		t.Fatalf("key's own configuration: %x (%v), want %x", own, err, wantOwn)
	}

	// The vector's ephemeral key: pkE is the X25519 public key of skE.
	skE, err := ecdh.X25519().NewPrivateKey(v.SkE)
	if err != nil || !bytes.Equal(skE.PublicKey().Bytes(), v.PkE) || !bytes.Equal(v.EncapsulatedRequest[headerSize:headerSize+encSize], v.PkE) {
		t.Fatalf("skE does not give the RFC's enc (%v)", err)
	}

	// Request info.
	if info := requestInfo(v.EncapsulatedRequest[:headerSize]); !bytes.Equal(info, v.Info) {
		t.Fatalf("info %x, want %x", info, []byte(v.Info))
	}

	// Gateway: request.
	req, rc, err := g.DecapsulateRequest(v.EncapsulatedRequest)
	if err != nil {
		t.Fatalf("DecapsulateRequest(RFC): %v", err)
	}
	if !bytes.Equal(req, v.Request) {
		t.Fatalf("request %x, want %x", req, []byte(v.Request))
	}
	// Gateway: response secrets.
	if s := rc.ctx.Export([]byte(responseLabel), responseNonceSize); !bytes.Equal(s, v.ExportedSecret) {
		t.Fatalf("exported secret %x, want %x", s, []byte(v.ExportedSecret))
	}
	key, nonce := responseKeys(rc.ctx, rc.enc, v.ResponseNonce)
	if !bytes.Equal(key, v.AEADKey) || !bytes.Equal(nonce, v.AEADNonce) {
		t.Fatalf("response AEAD key %x nonce %x, want %x %x", key, nonce, []byte(v.AEADKey), []byte(v.AEADNonce))
	}
	// Gateway: response.
	rc.nonce = func(b []byte) { copy(b, v.ResponseNonce) }
	res, err := rc.EncapsulateResponse(v.Response)
	if err != nil {
		t.Fatalf("EncapsulateResponse: %v", err)
	}
	if !bytes.Equal(res, v.EncapsulatedResponse) {
		t.Fatalf("encapsulated response %x, want %x", res, []byte(v.EncapsulatedResponse))
	}
	if _, err := rc.EncapsulateResponse(v.Response); !errors.Is(err, ErrContextUsed) {
		t.Fatalf("second EncapsulateResponse: %v, want ErrContextUsed", err)
	}

	// Client, from the RFC's configuration, with the RFC's sending context.
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient(RFC configuration): %v", err)
	}
	c.setup = rfcSetup(t, v, k)
	encReq, cc, err := c.EncapsulateRequest(v.Request)
	if err != nil {
		t.Fatalf("EncapsulateRequest: %v", err)
	}
	if !bytes.Equal(encReq, v.EncapsulatedRequest) {
		t.Fatalf("client's encapsulated request %x, want %x", encReq, []byte(v.EncapsulatedRequest))
	}
	got, err := cc.DecapsulateResponse(v.EncapsulatedResponse)
	if err != nil {
		t.Fatalf("DecapsulateResponse(RFC): %v", err)
	}
	if !bytes.Equal(got, v.Response) {
		t.Fatalf("client's response %x, want %x", got, []byte(v.Response))
	}

	// Client with its own random ephemeral key.
	c, err = NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	encReq, cc, err = c.EncapsulateRequest(v.Request)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(encReq[:headerSize], v.EncapsulatedRequest[:headerSize]) || len(encReq) != len(v.EncapsulatedRequest) {
		t.Fatalf("client's request %x: header or length differ from the RFC's %x", encReq, []byte(v.EncapsulatedRequest))
	}
	if bytes.Equal(encReq[headerSize:headerSize+encSize], v.PkE) {
		t.Fatal("client reused the RFC's ephemeral key")
	}
	req, rc, err = g.DecapsulateRequest(encReq)
	if err != nil || !bytes.Equal(req, v.Request) {
		t.Fatalf("gateway opened the client's request to %x (%v)", req, err)
	}
	res, err = rc.EncapsulateResponse(v.Response)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := cc.DecapsulateResponse(res); err != nil || !bytes.Equal(got, v.Response) {
		t.Fatalf("client read %x (%v)", got, err)
	}
}
