package ohttp

import (
	"testing"
)

const benchBody = 1024 // bytes of request and response

// benchSetup returns a gateway and a client of one fresh key, and a 1 KiB body.
func benchSetup(b *testing.B) (*Gateway, *Client, []byte) {
	b.Helper()
	k := mustKey(b, 1)
	return NewGateway(k), mustClient(b, k.Config()), randomBytes(benchBody)
}

// BenchmarkEncapsulateRequest: a client encapsulates a 1 KiB request (one
// X25519 key generation and one X25519 shared secret, HPKE key schedule,
// AES-128-GCM). overhead-B is the encapsulated request's size beyond the body.
func BenchmarkEncapsulateRequest(b *testing.B) {
	_, c, body := benchSetup(b)
	b.SetBytes(benchBody)
	b.ReportAllocs()
	var enc []byte
	for b.Loop() {
		var err error
		if enc, _, err = c.EncapsulateRequest(body); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(enc)-benchBody), "overhead-B")
}

// BenchmarkDecapsulateRequest: a gateway opens a 1 KiB request (one X25519
// shared secret, HPKE key schedule, AES-128-GCM).
func BenchmarkDecapsulateRequest(b *testing.B) {
	g, c, body := benchSetup(b)
	enc, _, err := c.EncapsulateRequest(body)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchBody)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := g.DecapsulateRequest(enc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResponse: the gateway encapsulates a 1 KiB response and the client
// decapsulates it (per side: HPKE export, HKDF, AES-128-GCM). The contexts,
// single use, are made in batches outside the timed part. overhead-B is the
// encapsulated response's size beyond the body.
func BenchmarkResponse(b *testing.B) {
	g, c, body := benchSetup(b)
	const batch = 256
	type pair struct {
		rc *ResponseContext
		cc *ClientContext
	}
	pairs := make([]pair, 0, batch)
	refill := func() {
		b.StopTimer()
		pairs = pairs[:0]
		for range batch {
			enc, cc, err := c.EncapsulateRequest(body[:16])
			if err != nil {
				b.Fatal(err)
			}
			_, rc, err := g.DecapsulateRequest(enc)
			if err != nil {
				b.Fatal(err)
			}
			pairs = append(pairs, pair{rc, cc})
		}
		b.StartTimer()
	}
	b.SetBytes(benchBody)
	b.ReportAllocs()
	var res []byte
	for b.Loop() {
		if len(pairs) == 0 {
			refill()
		}
		p := pairs[len(pairs)-1]
		pairs = pairs[:len(pairs)-1]
		var err error
		if res, err = p.rc.EncapsulateResponse(body); err != nil {
			b.Fatal(err)
		}
		if _, err := p.cc.DecapsulateResponse(res); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(res)-benchBody), "overhead-B")
}
