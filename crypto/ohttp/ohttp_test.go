package ohttp

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func mustKey(t testing.TB, id uint8) *GatewayKey {
	t.Helper()
	k, err := GenerateGatewayKey(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustClient(t testing.TB, cfg *KeyConfig) *Client {
	t.Helper()
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// exchange runs one request and response through c and g and checks both
// arrive intact.
func exchange(t testing.TB, c *Client, g *Gateway, request, response []byte) {
	t.Helper()
	encReq, cc, err := c.EncapsulateRequest(request)
	if err != nil {
		t.Fatalf("EncapsulateRequest: %v", err)
	}
	if want := headerSize + encSize + len(request) + tagSize; len(encReq) != want {
		t.Fatalf("encapsulated request of %d bytes, want %d", len(encReq), want)
	}
	got, rc, err := g.DecapsulateRequest(encReq)
	if err != nil {
		t.Fatalf("DecapsulateRequest: %v", err)
	}
	if !bytes.Equal(got, request) {
		t.Fatal("request changed on the way")
	}
	encRes, err := rc.EncapsulateResponse(response)
	if err != nil {
		t.Fatalf("EncapsulateResponse: %v", err)
	}
	if want := responseNonceSize + len(response) + tagSize; len(encRes) != want {
		t.Fatalf("encapsulated response of %d bytes, want %d", len(encRes), want)
	}
	gotRes, err := cc.DecapsulateResponse(encRes)
	if err != nil {
		t.Fatalf("DecapsulateResponse: %v", err)
	}
	if !bytes.Equal(gotRes, response) {
		t.Fatal("response changed on the way")
	}
}

func TestRoundTrip(t *testing.T) {
	k1, k2 := mustKey(t, 1), mustKey(t, 200)
	g := NewGateway(k1, k2)
	for _, k := range []*GatewayKey{k1, k2} {
		c := mustClient(t, k.Config())
		for _, n := range []int{0, 1, 1024, 100_000} {
			t.Run(fmt.Sprintf("key%d/%d", k.KeyID(), n), func(t *testing.T) {
				exchange(t, c, g, randomBytes(n), randomBytes(n/2))
			})
		}
	}
}

func TestRequestsAreFresh(t *testing.T) {
	k := mustKey(t, 3)
	c := mustClient(t, k.Config())
	a, _, err := c.EncapsulateRequest([]byte("same"))
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := c.EncapsulateRequest([]byte("same"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a[headerSize:headerSize+encSize], b[headerSize:headerSize+encSize]) || bytes.Equal(a, b) {
		t.Fatal("two requests share an ephemeral key")
	}
	if !bytes.Equal(a[:headerSize], []byte{3, 0, 0x20, 0, 1, 0, 1}) {
		t.Fatalf("header %x", a[:headerSize])
	}
}

func TestKeyConfigEncoding(t *testing.T) {
	k := mustKey(t, 9)
	cfg := k.Config()
	cfg.Suites = []SymmetricSuite{{KDF: 3, AEAD: 2}, {KDF: 1, AEAD: 1}, {KDF: 0xffff, AEAD: 0xfffe}}
	b, err := cfg.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseKeyConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.KeyID != 9 || got.KEM != KEMX25519 || !bytes.Equal(got.PublicKey, cfg.PublicKey) || fmt.Sprint(got.Suites) != fmt.Sprint(cfg.Suites) {
		t.Fatalf("round trip: %+v, want %+v", got, cfg)
	}
	// A configuration of another KEM known to circl parses.
	p256 := append([]byte{7, 0, 0x10}, make([]byte, 65)...)
	p256 = append(p256, 0, 4, 0, 1, 0, 1)
	if c, err := ParseKeyConfig(p256); err != nil || c.KEM != 0x10 || len(c.PublicKey) != 65 {
		t.Fatalf("P-256 configuration: %+v, %v", c, err)
	}

	bad := map[string]struct {
		b    []byte
		want error
	}{
		"empty":            {nil, ErrMalformed},
		"two bytes":        {b[:2], ErrMalformed},
		"unknown KEM":      {append([]byte{1, 0x99, 0x99}, b[3:]...), ErrUnsupported},
		"short public key": {b[:20], ErrMalformed},
		"no length":        {b[:3+32+1], ErrMalformed},
		"zero suites":      {append(bytes.Clone(b[:3+32]), 0, 0), ErrMalformed},
		"length 3":         {append(bytes.Clone(b[:3+32]), 0, 3, 0, 1, 0), ErrMalformed},
		"length 6":         {append(bytes.Clone(b[:3+32]), 0, 6, 0, 1, 0, 1, 0, 1), ErrMalformed},
		"truncated suites": {b[:len(b)-1], ErrMalformed},
		"trailing byte":    {append(bytes.Clone(b), 0), ErrMalformed},
	}
	for name, tc := range bad {
		if _, err := ParseKeyConfig(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}

	badCfg := map[string]struct {
		c    *KeyConfig
		want error
	}{
		"nil":             {nil, ErrMalformed},
		"unknown KEM":     {&KeyConfig{KEM: 0x9999, PublicKey: cfg.PublicKey, Suites: cfg.Suites}, ErrUnsupported},
		"short key":       {&KeyConfig{KEM: KEMX25519, PublicKey: cfg.PublicKey[:31], Suites: cfg.Suites}, ErrMalformed},
		"no suites":       {&KeyConfig{KEM: KEMX25519, PublicKey: cfg.PublicKey}, ErrMalformed},
		"too many suites": {&KeyConfig{KEM: KEMX25519, PublicKey: cfg.PublicKey, Suites: make([]SymmetricSuite, maxSuites+1)}, ErrMalformed},
	}
	for name, tc := range badCfg {
		if _, err := tc.c.MarshalBinary(); !errors.Is(err, tc.want) {
			t.Errorf("marshal %s: %v, want %v", name, err, tc.want)
		}
	}
	// The largest configuration encodes, but not in a collection, where its
	// length must fit a uint16; the largest that fits there does.
	big := &KeyConfig{KEM: KEMX25519, PublicKey: cfg.PublicKey, Suites: make([]SymmetricSuite, maxSuites)}
	if enc, err := big.MarshalBinary(); err != nil {
		t.Fatalf("largest configuration: %v", err)
	} else if got, err := ParseKeyConfig(enc); err != nil || len(got.Suites) != maxSuites {
		t.Fatalf("largest configuration parsed: %v", err)
	}
	if _, err := MarshalKeyConfigs(big); !errors.Is(err, ErrMalformed) {
		t.Fatalf("largest configuration in a collection: %v, want ErrMalformed", err)
	}
	big.Suites = big.Suites[:(0xffff-1-2-32-2)/4]
	if enc, err := MarshalKeyConfigs(big); err != nil {
		t.Fatalf("largest configuration of a collection: %v", err)
	} else if got, err := ParseKeyConfigs(enc); err != nil || len(got[0].Suites) != len(big.Suites) {
		t.Fatalf("largest configuration of a collection parsed: %v", err)
	}
}

func TestKeyConfigs(t *testing.T) {
	v := loadRFC9458(t)
	rfcCfg, err := ParseKeyConfig(v.KeyConfig)
	if err != nil {
		t.Fatal(err)
	}
	k := mustKey(t, 2)
	b, err := MarshalKeyConfigs(rfcCfg, k.Config())
	if err != nil {
		t.Fatal(err)
	}
	want := append(binary.BigEndian.AppendUint16(nil, uint16(len(v.KeyConfig))), v.KeyConfig...)
	if !bytes.HasPrefix(b, want) {
		t.Fatalf("collection %x does not start with the length-prefixed RFC configuration", b)
	}
	cs, err := ParseKeyConfigs(b)
	if err != nil || len(cs) != 2 || cs[0].KeyID != 1 || cs[1].KeyID != 2 || !bytes.Equal(cs[1].PublicKey, k.Config().PublicKey) {
		t.Fatalf("ParseKeyConfigs: %v, %v", cs, err)
	}
	if _, err := MarshalKeyConfigs(); !errors.Is(err, ErrMalformed) {
		t.Fatalf("MarshalKeyConfigs(): %v", err)
	}
	if _, err := MarshalKeyConfigs(rfcCfg, &KeyConfig{KEM: 0x9999}); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("MarshalKeyConfigs with an unknown KEM: %v", err)
	}

	// An entry of an unknown KEM is skipped, its length prefix delimiting it.
	unknown := []byte{0, 7, 5, 0x99, 0x99, 1, 2, 3, 4}
	withUnknown := append(bytes.Clone(unknown), b...)
	if cs, err := ParseKeyConfigs(withUnknown); err != nil || len(cs) != 2 || cs[0].KeyID != 1 {
		t.Fatalf("collection with an unknown KEM first: %v, %v", cs, err)
	}
	if _, err := ParseKeyConfigs(unknown); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("collection of only an unknown KEM: %v, want ErrUnsupported", err)
	}

	bad := map[string][]byte{
		"empty":                 nil,
		"one byte":              {0},
		"overrun":               append([]byte{0xff, 0xff}, v.KeyConfig...),
		"trailing byte":         append(bytes.Clone(b), 0),
		"short entry":           append(bytes.Clone(b), 0, 2, 1, 0),
		"bad entry after good":  append(bytes.Clone(b), append([]byte{0, byte(len(v.KeyConfig) - 1)}, v.KeyConfig[:len(v.KeyConfig)-1]...)...),
		"zero-length entry":     append(bytes.Clone(b), 0, 0),
		"length inside entry":   append([]byte{0, byte(len(v.KeyConfig) + 1)}, append(bytes.Clone(v.KeyConfig), 0)...),
		"truncated last prefix": append(bytes.Clone(b), 0),
	}
	for name, in := range bad {
		if _, err := ParseKeyConfigs(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

func TestNewClient(t *testing.T) {
	k := mustKey(t, 4)
	cfg := k.Config()

	// The supported suite is picked wherever it is listed.
	cfg.Suites = []SymmetricSuite{{KDF: 1, AEAD: 3}, {KDF: 2, AEAD: 2}, {KDF: 1, AEAD: 1}}
	c := mustClient(t, cfg)
	exchange(t, c, NewGateway(k), []byte("GET /"), []byte("200"))

	cases := map[string]struct {
		mod  func(*KeyConfig)
		want error
	}{
		"no supported suite": {func(c *KeyConfig) { c.Suites = []SymmetricSuite{{KDF: 1, AEAD: 3}} }, ErrUnsupported},
		"no suites":          {func(c *KeyConfig) { c.Suites = nil }, ErrUnsupported},
		"P-256 KEM":          {func(c *KeyConfig) { c.KEM, c.PublicKey = 0x10, make([]byte, 65) }, ErrUnsupported},
		"short public key":   {func(c *KeyConfig) { c.PublicKey = c.PublicKey[:31] }, ErrMalformed},
		"zero public key":    {func(c *KeyConfig) { c.PublicKey = make([]byte, 32) }, ErrMalformed},
		"low-order point 1":  {func(c *KeyConfig) { c.PublicKey = append([]byte{1}, make([]byte, 31)...) }, ErrMalformed},
	}
	for name, tc := range cases {
		cfg := k.Config()
		tc.mod(cfg)
		if _, err := NewClient(cfg); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	if _, err := NewClient(nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("nil: %v", err)
	}

	// The client keeps no reference to the configuration.
	cfg = k.Config()
	c = mustClient(t, cfg)
	cfg.PublicKey[0] ^= 1
	cfg.KeyID = 5
	exchange(t, c, NewGateway(k), []byte("x"), []byte("y"))
}

func TestGatewayKeyStorage(t *testing.T) {
	k := mustKey(t, 77)
	b, err := k.MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"key-id":77`, `"kem":32`, `"private-key":"`} {
		if !bytes.Contains(b, []byte(field)) {
			t.Fatalf("stored key %s lacks %s", b, field)
		}
	}
	k2, err := ParseGatewayKey(b)
	if err != nil {
		t.Fatal(err)
	}
	if k2.KeyID() != 77 || !bytes.Equal(k2.Config().PublicKey, k.Config().PublicKey) {
		t.Fatal("parsed key differs")
	}
	exchange(t, mustClient(t, k.Config()), NewGateway(k2), []byte("stored"), []byte("ok"))

	// NewGatewayKey from the raw private key gives the same key.
	raw, _ := k.priv.sk.MarshalBinary()
	k3, err := NewGatewayKey(77, raw)
	if err != nil || !bytes.Equal(k3.Config().PublicKey, k.Config().PublicKey) {
		t.Fatalf("NewGatewayKey: %v", err)
	}

	bad := map[string]struct {
		in   string
		want error
	}{
		"not JSON":        {`key`, ErrMalformed},
		"unknown field":   {`{"key-id":1,"kem":32,"private-key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","x":1}`, ErrMalformed},
		"no key-id":       {`{"kem":32,"private-key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`, ErrMalformed},
		"no kem":          {`{"key-id":1,"private-key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`, ErrMalformed},
		"no private-key":  {`{"key-id":1,"kem":32}`, ErrMalformed},
		"key-id too big":  {`{"key-id":256,"kem":32,"private-key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`, ErrMalformed},
		"other KEM":       {`{"key-id":1,"kem":16,"private-key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`, ErrUnsupported},
		"not base64":      {`{"key-id":1,"kem":32,"private-key":"!!"}`, ErrMalformed},
		"short key":       {`{"key-id":1,"kem":32,"private-key":"AAAA"}`, ErrMalformed},
		"trailing object": {string(b) + `{}`, ErrMalformed},
	}
	for name, tc := range bad {
		if _, err := ParseGatewayKey([]byte(tc.in)); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	if _, err := NewGatewayKey(1, make([]byte, 31)); !errors.Is(err, ErrMalformed) {
		t.Errorf("NewGatewayKey of 31 bytes: %v", err)
	}
}

func TestGenerateGatewayKey(t *testing.T) {
	seed := bytes.Repeat([]byte{0x5a}, 32)
	a, err := GenerateGatewayKey(1, bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateGatewayKey(1, bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Config().PublicKey, b.Config().PublicKey) {
		t.Fatal("the same randomness gave two keys")
	}
	if bytes.Equal(mustKey(t, 1).Config().PublicKey, mustKey(t, 1).Config().PublicKey) {
		t.Fatal("crypto/rand gave the same key twice")
	}
	if _, err := GenerateGatewayKey(1, bytes.NewReader(seed[:31])); err == nil || !strings.Contains(err.Error(), "randomness") {
		t.Fatalf("short reader: %v", err)
	}
	cfg := a.Config()
	cfg.PublicKey[0] ^= 1
	cfg.Suites[0].AEAD = 3
	if c := a.Config(); c.PublicKey[0] == cfg.PublicKey[0] || c.Suites[0].AEAD != 1 {
		t.Fatal("Config shares memory with the key")
	}
}

func TestGatewayKeyNeverPrints(t *testing.T) {
	k := mustKey(t, 42)
	raw, _ := k.priv.sk.MarshalBinary()
	stored, _ := k.MarshalPrivate()
	secrets := []string{hex.EncodeToString(raw), fmt.Sprint(raw), string(stored[strings.Index(string(stored), `"private-key":"`)+15 : len(stored)-2])}
	type holder struct {
		key  GatewayKey
		ptr  *GatewayKey
		Pub  GatewayKey
		PPtr *GatewayKey
	}
	h := holder{key: *k, ptr: k, Pub: *k, PPtr: k}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
		for _, v := range []any{k, *k, h, &h, []*GatewayKey{k}, map[int]GatewayKey{1: *k}} {
			out := fmt.Sprintf(verb, v)
			for _, s := range secrets {
				if strings.Contains(strings.ToLower(out), strings.ToLower(s)) {
					t.Fatalf("%s of %T prints the private key: %s", verb, v, out)
				}
			}
		}
	}
	if got := fmt.Sprint(k); got != "ohttp.GatewayKey(id 42, KEM 0x0020)" {
		t.Fatalf("String: %q", got)
	}
}

func TestGatewayKeys(t *testing.T) {
	var zero Gateway
	k := mustKey(t, 1)
	c := mustClient(t, k.Config())
	req, _, err := c.EncapsulateRequest([]byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := zero.DecapsulateRequest(req); !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), "key id 1") {
		t.Fatalf("zero gateway: %v", err)
	}
	// Nil keys are ignored; the later of two keys with one id is kept.
	other := mustKey(t, 1)
	g := NewGateway(nil, other, k, nil)
	if _, _, err := g.DecapsulateRequest(req); err != nil {
		t.Fatalf("later key not kept: %v", err)
	}
	g.SetKeys(k, other)
	if _, _, err := g.DecapsulateRequest(req); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("request to a replaced key: %v, want ErrDecrypt", err)
	}
	g.SetKeys()
	if _, _, err := g.DecapsulateRequest(req); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("no keys: %v, want ErrUnknownKey", err)
	}
}

// fresh returns a new encapsulated request to k's client, the client's
// context, and the request in the clear.
func fresh(t testing.TB, c *Client) ([]byte, *ClientContext, []byte) {
	t.Helper()
	request := []byte("GET https://example.com/ secret=hunter2")
	enc, cc, err := c.EncapsulateRequest(request)
	if err != nil {
		t.Fatal(err)
	}
	return enc, cc, request
}

func TestTamperedRequest(t *testing.T) {
	k := mustKey(t, 1)
	g := NewGateway(k)
	c := mustClient(t, k.Config())
	enc, _, request := fresh(t, c)
	regions := []struct {
		name     string
		from, to int
		want     error
	}{
		{"key id", 0, 1, ErrUnknownKey},
		{"KEM", 1, 3, ErrUnsupported},
		{"KDF", 3, 5, ErrUnsupported},
		{"AEAD", 5, 7, ErrUnsupported},
		{"enc", headerSize, headerSize + encSize, ErrDecrypt},
		{"ciphertext", headerSize + encSize, len(enc), ErrDecrypt},
	}
	for _, r := range regions {
		for i := r.from; i < r.to; i++ {
			for _, bit := range []byte{0x01, 0x80} {
				m := bytes.Clone(enc)
				m[i] ^= bit
				_, rc, err := g.DecapsulateRequest(m)
				if !errors.Is(err, r.want) || rc != nil {
					t.Fatalf("%s byte %d ^%#x: %v, want %v", r.name, i, bit, err, r.want)
				}
				if strings.Contains(err.Error(), string(request)) || strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("error leaks the request: %v", err)
				}
			}
		}
	}
	lengths := map[string]struct {
		b    []byte
		want error
	}{
		"empty":                {nil, ErrMalformed},
		"header only":          {enc[:headerSize], ErrMalformed},
		"header and enc":       {enc[:headerSize+encSize], ErrMalformed},
		"one byte short a tag": {enc[:headerSize+encSize+tagSize-1], ErrMalformed},
		"truncated ciphertext": {enc[:len(enc)-1], ErrDecrypt},
		"extra byte":           {append(bytes.Clone(enc), 0), ErrDecrypt},
		"low-order enc":        {append(append(bytes.Clone(enc[:headerSize]), make([]byte, encSize)...), enc[headerSize+encSize:]...), ErrMalformed},
	}
	for name, tc := range lengths {
		if _, _, err := g.DecapsulateRequest(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	// The untouched request still opens.
	if got, _, err := g.DecapsulateRequest(enc); err != nil || !bytes.Equal(got, request) {
		t.Fatalf("untouched request: %v", err)
	}
}

func TestTamperedResponse(t *testing.T) {
	k := mustKey(t, 1)
	g := NewGateway(k)
	c := mustClient(t, k.Config())
	response := []byte("HTTP 200 body=classified")
	regions := []struct {
		name     string
		from, to int
	}{
		{"response nonce", 0, responseNonceSize},
		{"response ciphertext", responseNonceSize, responseNonceSize + len(response) + tagSize},
	}
	for _, r := range regions {
		for i := r.from; i < r.to; i++ {
			enc, cc, _ := fresh(t, c)
			_, rc, err := g.DecapsulateRequest(enc)
			if err != nil {
				t.Fatal(err)
			}
			res, err := rc.EncapsulateResponse(response)
			if err != nil {
				t.Fatal(err)
			}
			res[i] ^= 0x01
			got, err := cc.DecapsulateResponse(res)
			if !errors.Is(err, ErrDecrypt) || got != nil {
				t.Fatalf("%s byte %d: %v, want ErrDecrypt", r.name, i, err)
			}
			if strings.Contains(err.Error(), "classified") {
				t.Fatalf("error leaks the response: %v", err)
			}
		}
	}

	// Lengths, and responses to other requests: each case on a new exchange,
	// as a failed attempt uses the client context up.
	for name, tc := range map[string]struct {
		mod  func(res, other, req []byte) []byte
		want error
	}{
		"empty":           {func(res, _, _ []byte) []byte { return nil }, ErrMalformed},
		"nonce only":      {func(res, _, _ []byte) []byte { return res[:responseNonceSize] }, ErrMalformed},
		"one byte short":  {func(res, _, _ []byte) []byte { return res[:responseNonceSize+tagSize-1] }, ErrMalformed},
		"truncated":       {func(res, _, _ []byte) []byte { return res[:len(res)-1] }, ErrDecrypt},
		"extra byte":      {func(res, _, _ []byte) []byte { return append(bytes.Clone(res), 0) }, ErrDecrypt},
		"other request's": {func(_, other, _ []byte) []byte { return other }, ErrDecrypt},
		"other's nonce": {func(res, other, _ []byte) []byte {
			return append(bytes.Clone(other[:responseNonceSize]), res[responseNonceSize:]...)
		}, ErrDecrypt},
		"request as response": {func(_, _, req []byte) []byte { return req }, ErrDecrypt},
	} {
		req, cc, _ := fresh(t, c)
		otherReq, _, _ := fresh(t, c)
		_, rc, err := g.DecapsulateRequest(req)
		if err != nil {
			t.Fatal(err)
		}
		_, otherRC, err := g.DecapsulateRequest(otherReq)
		if err != nil {
			t.Fatal(err)
		}
		res, _ := rc.EncapsulateResponse(response)
		other, _ := otherRC.EncapsulateResponse(response)
		if _, err := cc.DecapsulateResponse(tc.mod(res, other, req)); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

func TestContextsAreSingleUse(t *testing.T) {
	k := mustKey(t, 1)
	g := NewGateway(k)
	c := mustClient(t, k.Config())

	enc, cc, _ := fresh(t, c)
	_, rc, err := g.DecapsulateRequest(enc)
	if err != nil {
		t.Fatal(err)
	}
	res, err := rc.EncapsulateResponse([]byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.EncapsulateResponse([]byte("two")); !errors.Is(err, ErrContextUsed) {
		t.Fatalf("second EncapsulateResponse: %v", err)
	}
	if _, err := cc.DecapsulateResponse(res); err != nil {
		t.Fatal(err)
	}
	if _, err := cc.DecapsulateResponse(res); !errors.Is(err, ErrContextUsed) {
		t.Fatalf("second DecapsulateResponse: %v", err)
	}

	// A failed attempt uses the context up too.
	enc, cc, _ = fresh(t, c)
	_, rc, _ = g.DecapsulateRequest(enc)
	res, _ = rc.EncapsulateResponse([]byte("one"))
	if _, err := cc.DecapsulateResponse(res[:3]); !errors.Is(err, ErrMalformed) {
		t.Fatal(err)
	}
	if _, err := cc.DecapsulateResponse(res); !errors.Is(err, ErrContextUsed) {
		t.Fatalf("after a failure: %v", err)
	}

	// Concurrent calls: exactly one gets through.
	enc, cc, _ = fresh(t, c)
	_, rc, _ = g.DecapsulateRequest(enc)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var responses [][]byte
	for range 8 {
		wg.Go(func() {
			if r, err := rc.EncapsulateResponse([]byte("race")); err == nil {
				mu.Lock()
				responses = append(responses, r)
				mu.Unlock()
			} else if !errors.Is(err, ErrContextUsed) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(responses) != 1 {
		t.Fatalf("%d responses from one context", len(responses))
	}
	ok := 0
	for range 8 {
		wg.Go(func() {
			if _, err := cc.DecapsulateResponse(responses[0]); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			} else if !errors.Is(err, ErrContextUsed) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d clients opened one response", ok)
	}

	// Contexts not made by this package.
	if _, err := new(ResponseContext).EncapsulateResponse(nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("zero ResponseContext: %v", err)
	}
	if _, err := new(ClientContext).DecapsulateResponse(res); !errors.Is(err, ErrMalformed) {
		t.Fatalf("zero ClientContext: %v", err)
	}
	var nilRC *ResponseContext
	var nilCC *ClientContext
	if _, err := nilRC.EncapsulateResponse(nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("nil ResponseContext: %v", err)
	}
	if _, err := nilCC.DecapsulateResponse(res); !errors.Is(err, ErrMalformed) {
		t.Fatalf("nil ClientContext: %v", err)
	}
}

// TestConcurrentGateway runs clients of two keys against one Gateway while
// SetKeys swaps its keys: key 1 stays, key 2 comes and goes and is at times
// replaced by another key with the same id. Requests to key 1 must always
// succeed; requests to key 2 succeed, or fail with ErrUnknownKey or ErrDecrypt
// only. Run it with -race.
func TestConcurrentGateway(t *testing.T) {
	k1, k2, k2b := mustKey(t, 1), mustKey(t, 2), mustKey(t, 2)
	g := NewGateway(k1, k2)
	c1, c2 := mustClient(t, k1.Config()), mustClient(t, k2.Config())
	stop := make(chan struct{})
	var swapper sync.WaitGroup
	swapper.Go(func() {
		sets := [][]*GatewayKey{{k1}, {k1, k2b}, {k1, k2}}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
				g.SetKeys(sets[i%len(sets)]...)
			}
		}
	})
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[string]int{}
	for w := range 6 {
		wg.Go(func() {
			for i := range 40 {
				c, id := c1, 1
				if (w+i)%2 == 1 {
					c, id = c2, 2
				}
				body := fmt.Appendf(nil, "worker %d request %d", w, i)
				enc, cc, err := c.EncapsulateRequest(body)
				if err != nil {
					t.Error(err)
					return
				}
				got, rc, err := g.DecapsulateRequest(enc)
				outcome := "ok"
				switch {
				case err == nil && !bytes.Equal(got, body):
					t.Errorf("key %d: request changed", id)
					return
				case err == nil:
					res, err := rc.EncapsulateResponse(body)
					if err != nil {
						t.Error(err)
						return
					}
					if back, err := cc.DecapsulateResponse(res); err != nil || !bytes.Equal(back, body) {
						t.Errorf("key %d: response: %v", id, err)
						return
					}
				case id == 2 && errors.Is(err, ErrUnknownKey):
					outcome = "unknown"
				case id == 2 && errors.Is(err, ErrDecrypt):
					outcome = "replaced"
				default:
					t.Errorf("key %d: %v", id, err)
					return
				}
				mu.Lock()
				counts[fmt.Sprintf("key%d %s", id, outcome)]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(stop)
	swapper.Wait()
	if counts["key1 ok"] != 120 {
		t.Fatalf("key 1: %v", counts)
	}
	t.Logf("outcomes: %v", counts)
}
