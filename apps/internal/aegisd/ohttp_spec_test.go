package aegisd_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/adapters/fsblob"
	"github.com/ai-pantheon/aegis/adapters/ohttpkeys"
	"github.com/ai-pantheon/aegis/apps/internal/aegisd"
	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/crypto/bhttp"
	"github.com/ai-pantheon/aegis/crypto/ohttp"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

// problemBody is the application/problem+json body of the gateway's key
// problems, with aegisd's error object as an extension member.
type problemBody struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	apiErr
}

// gatewayConfigs fetches GET /.well-known/ohttp-gateway.
func gatewayConfigs(r *running) ([]*ohttp.KeyConfig, resp) {
	GinkgoHelper()
	res, err := plainClient.Get(r.URL + server.GatewayPath)
	Expect(err).NotTo(HaveOccurred())
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	Expect(err).NotTo(HaveOccurred())
	out := resp{Status: res.StatusCode, Header: res.Header, Body: b}
	if res.StatusCode != http.StatusOK {
		return nil, out
	}
	cfgs, err := ohttp.ParseKeyConfigs(b)
	Expect(err).NotTo(HaveOccurred())
	return cfgs, out
}

// postEncapsulated POSTs body to the gateway as message/ohttp-req (or ct).
func postEncapsulated(r *running, body []byte, ct string) resp {
	GinkgoHelper()
	req, err := http.NewRequest(http.MethodPost, r.URL+server.GatewayPath, bytes.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Content-Type", ct)
	res, err := plainClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	Expect(err).NotTo(HaveOccurred())
	return resp{Status: res.StatusCode, Header: res.Header, Body: b}
}

// innerReq is a request to send encapsulated.
type innerReq struct {
	method, path string
	header       http.Header
	body         []byte
}

// encapsulate encodes q as Binary HTTP and encapsulates it to cfg.
func encapsulate(cfg *ohttp.KeyConfig, q innerReq) ([]byte, *ohttp.ClientContext) {
	GinkgoHelper()
	msg, err := (&bhttp.Request{Method: q.method, Scheme: "http", Authority: "aegisd.invalid", Path: q.path, Header: q.header, Body: q.body}).MarshalBinary()
	Expect(err).NotTo(HaveOccurred())
	return encapsulateRaw(cfg, msg)
}

func encapsulateRaw(cfg *ohttp.KeyConfig, msg []byte) ([]byte, *ohttp.ClientContext) {
	GinkgoHelper()
	c, err := ohttp.NewClient(cfg)
	Expect(err).NotTo(HaveOccurred())
	enc, cc, err := c.EncapsulateRequest(msg)
	Expect(err).NotTo(HaveOccurred())
	return enc, cc
}

// open checks the gateway's 200 message/ohttp-res answer and returns the
// response it carries.
func open(r resp, cc *ohttp.ClientContext) resp {
	GinkgoHelper()
	Expect(r.Status).To(Equal(http.StatusOK), "gateway answered %d: %s", r.Status, r.Body)
	Expect(r.Header.Get("Content-Type")).To(Equal(ohttp.ResponseMediaType))
	Expect(r.Header.Get("Cache-Control")).To(Equal("no-store"))
	msg, err := cc.DecapsulateResponse(r.Body)
	Expect(err).NotTo(HaveOccurred())
	m, err := bhttp.ParseResponse(msg)
	Expect(err).NotTo(HaveOccurred())
	return resp{Status: m.Status, Header: m.Header, Body: m.Body}
}

// through sends q encapsulated to cfg and returns the inner response.
func through(r *running, cfg *ohttp.KeyConfig, q innerReq) resp {
	GinkgoHelper()
	enc, cc := encapsulate(cfg, q)
	return open(postEncapsulated(r, enc, ohttp.RequestMediaType), cc)
}

// direct sends q straight to aegisd.
func direct(r *running, q innerReq) resp {
	GinkgoHelper()
	req, err := http.NewRequest(q.method, r.URL+q.path, bytes.NewReader(q.body))
	Expect(err).NotTo(HaveOccurred())
	for k, v := range q.header {
		req.Header[k] = v
	}
	res, err := plainClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	Expect(err).NotTo(HaveOccurred())
	return resp{Status: res.StatusCode, Header: res.Header, Body: b}
}

func problemOf(r resp) problemBody {
	GinkgoHelper()
	var p problemBody
	Expect(json.Unmarshal(r.Body, &p)).To(Succeed(), "body %s", r.Body)
	return p
}

var _ = Describe("the Oblivious HTTP gateway (RFC 9458) at "+server.GatewayPath, func() {
	var (
		ctx   context.Context
		srv   *running
		pool  *privacypass.Pool
		cfg   *ohttp.KeyConfig
		store domain.BlobStore // the server's, read behind its back
	)

	BeforeEach(func() {
		ctx = context.Background()
		objects := GinkgoT().TempDir()
		var err error
		srv, err = start(func(o *aegisd.Options) { o.Store = "file://" + objects })
		Expect(err).NotTo(HaveOccurred())
		store, err = fsblob.Open(objects, nil)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(srv.stop()).To(Succeed()) })
		_, pool, err = newStore(ctx, srv)
		Expect(err).NotTo(HaveOccurred())
		cfgs, _ := gatewayConfigs(srv)
		Expect(cfgs).NotTo(BeEmpty())
		cfg = cfgs[0]
	})

	token := func() string {
		GinkgoHelper()
		tok, err := pool.Token(ctx)
		Expect(err).NotTo(HaveOccurred())
		return privacypass.FormatAuthorization(tok)
	}
	put := func(id domain.ObjectID, body []byte, auth string) innerReq {
		return innerReq{method: http.MethodPut, path: server.ObjectsPath + "/" + id.String(), body: body, header: http.Header{
			"Authorization": {auth}, "Content-Type": {"application/octet-stream"}, server.WriteEnablerHeader: {enablerHeader(id)},
		}}
	}
	get := func(id domain.ObjectID, auth string) innerReq {
		return innerReq{method: http.MethodGet, path: server.ObjectsPath + "/" + id.String(), header: http.Header{"Authorization": {auth}}}
	}
	stored := func(id domain.ObjectID) ([]byte, error) {
		return store.Get(ctx, id)
	}

	It("serves its key configurations as application/ohttp-keys, cacheable, for X25519 / HKDF-SHA256 / AES-128-GCM", func() {
		cfgs, r := gatewayConfigs(srv)
		Expect(r.Header.Get("Content-Type")).To(Equal(ohttp.KeysMediaType))
		Expect(r.Header.Get("Cache-Control")).To(Equal("public, max-age=3600"))
		Expect(cfgs[0].KEM).To(Equal(ohttp.KEMX25519))
		Expect(cfgs[0].Suites).To(ContainElement(ohttp.SymmetricSuite{KDF: ohttp.KDFHKDFSHA256, AEAD: ohttp.AEADAES128GCM}))
		// What aegisd logs at start names the same configuration, for pinning.
		b, err := cfgs[0].MarshalBinary()
		Expect(err).NotTo(HaveOccurred())
		Expect(srv.Log.String()).To(ContainSubstring("OHTTP gateway at " + server.GatewayPath))
		Expect(srv.Log.String()).To(ContainSubstring(sha256Hex(b)))
	})

	It("serves an encapsulated PUT and GET with real tokens exactly as direct ones, and logs them without the client", func() {
		id, data := newID(), randomBytes(domain.KiB)
		r := through(srv, cfg, put(id, data, token()))
		Expect(r.Status).To(Equal(http.StatusNoContent), "%s", r.Body)
		Expect(stored(id)).To(Equal(storedAs(id, data)))

		got := through(srv, cfg, get(id, token()))
		want := direct(srv, get(id, token()))
		Expect(got.Status).To(Equal(http.StatusOK))
		Expect(got.Body).To(Equal(data))
		Expect(got.Status).To(Equal(want.Status))
		Expect(got.Body).To(Equal(want.Body))
		Expect(got.Header.Get("ETag")).To(Equal(want.Header.Get("ETag")))
		Expect(got.Header.Get("Content-Type")).To(Equal(want.Header.Get("Content-Type")))

		// The token checks are the direct ones: no token, a spent token.
		noTok := through(srv, cfg, innerReq{method: http.MethodGet, path: server.ObjectsPath + "/" + id.String()})
		Expect(noTok.Status).To(Equal(http.StatusUnauthorized))
		Expect(noTok.code()).To(Equal(server.CodeTokenRequired))
		Expect(noTok.Header.Get("WWW-Authenticate")).To(HavePrefix("PrivateToken "))
		spent := token()
		Expect(through(srv, cfg, get(id, spent)).Status).To(Equal(http.StatusOK))
		again := through(srv, cfg, get(id, spent))
		Expect(again.Status).To(Equal(http.StatusUnauthorized))
		Expect(again.code()).To(Equal(server.CodeTokenSpent))

		// One line for the encapsulating POST, one for the request it carried.
		log := srv.Log.String()
		Expect(log).To(ContainSubstring("method=POST route=" + server.GatewayPath + " status=200"))
		Expect(log).To(ContainSubstring("method=PUT route=/v1/objects/:id status=204"))
		Expect(log).NotTo(ContainSubstring(id.String()))
		for _, l := range strings.Split(log, "\n") {
			if strings.Contains(l, " msg=request ") {
				Expect(l).NotTo(ContainSubstring("127.0.0.1"))
			}
		}
	})

	It("serves the issuer directory and a token request encapsulated", func() {
		r := through(srv, cfg, innerReq{method: http.MethodGet, path: server.DirectoryPath})
		Expect(r.Status).To(Equal(http.StatusOK))
		_, err := privacypass.ParseDirectory(r.Body)
		Expect(err).NotTo(HaveOccurred())
		bad := through(srv, cfg, innerReq{method: http.MethodPost, path: server.TokenRequestsPath, header: http.Header{"Authorization": {"Bearer wrong-secret-wrong-secret"}}})
		Expect(bad.Status).To(Equal(http.StatusUnauthorized))
		Expect(bad.code()).To(Equal(server.CodeAttestationRequired))
	})

	Describe("bad input: a clear 4xx, nothing stored, no token spent", func() {
		var (
			id   domain.ObjectID
			auth string
		)
		BeforeEach(func() {
			id = newID()
			auth = token()
		})
		// untouched checks that the object was not stored and that the
		// token is still unspent: a direct PUT with it is accepted.
		untouched := func() {
			GinkgoHelper()
			_, err := stored(id)
			Expect(err).To(MatchError(domain.ErrNotFound))
			Expect(direct(srv, put(id, randomBytes(domain.KiB), auth)).Status).To(Equal(http.StatusNoContent))
		}
		plain := func(r resp, status int, code string) {
			GinkgoHelper()
			Expect(r.Status).To(Equal(status), "%s", r.Body)
			Expect(r.code()).To(Equal(code))
		}
		keyProblem := func(r resp, code string) {
			GinkgoHelper()
			Expect(r.Status).To(Equal(http.StatusBadRequest), "%s", r.Body)
			Expect(r.Header.Get("Content-Type")).To(Equal(server.ProblemMediaType))
			p := problemOf(r)
			Expect(p.Type).To(Equal(server.OHTTPKeyProblem))
			Expect(p.Status).To(Equal(http.StatusBadRequest))
			Expect(p.Error.Code).To(Equal(code))
		}

		It("refuses another media type (415)", func() {
			enc, _ := encapsulate(cfg, put(id, randomBytes(domain.KiB), auth))
			plain(postEncapsulated(srv, enc, "application/octet-stream"), http.StatusUnsupportedMediaType, server.CodeUnsupportedMedia)
			untouched()
		})
		It("refuses an oversized encapsulated request (413)", func() {
			enc, _ := encapsulate(cfg, put(id, randomBytes(2*domain.MiB), auth))
			plain(postEncapsulated(srv, enc, ohttp.RequestMediaType), http.StatusRequestEntityTooLarge, server.CodeBodyTooLarge)
			untouched()
		})
		It("refuses a malformed encapsulated request (400 ohttp_malformed)", func() {
			enc, _ := encapsulate(cfg, put(id, randomBytes(domain.KiB), auth))
			plain(postEncapsulated(srv, enc[:20], ohttp.RequestMediaType), http.StatusBadRequest, server.CodeOHTTPMalformed)
			plain(postEncapsulated(srv, nil, ohttp.RequestMediaType), http.StatusBadRequest, server.CodeOHTTPMalformed)
			untouched()
		})
		It("refuses an unknown key id with the ohttp-key problem (400)", func() {
			other := *cfg
			other.KeyID = cfg.KeyID + 128
			enc, _ := encapsulate(&other, put(id, randomBytes(domain.KiB), auth))
			keyProblem(postEncapsulated(srv, enc, ohttp.RequestMediaType), server.CodeOHTTPUnknownKey)
			untouched()
		})
		It("refuses another suite and a request that does not open with the ohttp-key problem (400)", func() {
			enc, _ := encapsulate(cfg, put(id, randomBytes(domain.KiB), auth))
			suite := bytes.Clone(enc)
			suite[6] = 0x02 // AES-256-GCM
			keyProblem(postEncapsulated(srv, suite, ohttp.RequestMediaType), server.CodeOHTTPUnsupported)
			altered := bytes.Clone(enc)
			altered[len(altered)-1] ^= 1
			keyProblem(postEncapsulated(srv, altered, ohttp.RequestMediaType), server.CodeOHTTPDecrypt)
			// Neither poisoned the replay cache: the original still goes through.
			r := postEncapsulated(srv, enc, ohttp.RequestMediaType)
			Expect(r.Status).To(Equal(http.StatusOK))
		})
		It("refuses a replayed encapsulation (400 ohttp_replayed), which changes nothing", func() {
			enc, cc := encapsulate(cfg, put(id, randomBytes(domain.KiB), auth))
			first := open(postEncapsulated(srv, enc, ohttp.RequestMediaType), cc)
			Expect(first.Status).To(Equal(http.StatusNoContent))
			before, err := stored(id)
			Expect(err).NotTo(HaveOccurred())
			redeemed := srv.App.Handler.Metrics()
			var m1 bytes.Buffer
			_, _ = redeemed.WriteTo(&m1)
			plain(postEncapsulated(srv, enc, ohttp.RequestMediaType), http.StatusBadRequest, server.CodeOHTTPReplayed)
			after, err := stored(id)
			Expect(err).NotTo(HaveOccurred())
			Expect(after).To(Equal(before))
			var m2 bytes.Buffer
			_, _ = redeemed.WriteTo(&m2)
			Expect(metricLine(m2.String(), "aegisd_tokens_redeemed_total")).To(Equal(metricLine(m1.String(), "aegisd_tokens_redeemed_total")))
			Expect(m2.String()).To(ContainSubstring(`aegisd_ohttp_refused_total{reason="replayed"} 1`))
		})
		It("answers a malformed Binary HTTP request with an encapsulated 400 malformed_message", func() {
			enc, cc := encapsulateRaw(cfg, []byte{0, 3, 'P', 'U', 'T'})
			r := open(postEncapsulated(srv, enc, ohttp.RequestMediaType), cc)
			plain(r, http.StatusBadRequest, server.CodeMalformedMessage)
			untouched()
		})
		It("refuses to nest: an encapsulated POST to the gateway is an encapsulated 400 ohttp_nested", func() {
			innerEnc, _ := encapsulate(cfg, put(id, randomBytes(domain.KiB), auth))
			r := through(srv, cfg, innerReq{method: http.MethodPost, path: server.GatewayPath,
				header: http.Header{"Content-Type": {ohttp.RequestMediaType}}, body: innerEnc})
			plain(r, http.StatusBadRequest, server.CodeOHTTPNested)
			untouched()
			// GET of the key configurations is served inside: a client
			// confirms a new key through an old one that way.
			keys := through(srv, cfg, innerReq{method: http.MethodGet, path: server.GatewayPath})
			Expect(keys.Status).To(Equal(http.StatusOK))
			cfgs, err := ohttp.ParseKeyConfigs(keys.Body)
			Expect(err).NotTo(HaveOccurred())
			Expect(cfgs[0].PublicKey).To(Equal(cfg.PublicKey))
		})
	})

	It("is off with --ohttp=false: 404 route_not_found", func() {
		off, err := start(func(o *aegisd.Options) { o.DisableOHTTP = true })
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(off.stop()).To(Succeed()) })
		_, r := gatewayConfigs(off)
		Expect(r.Status).To(Equal(http.StatusNotFound))
		Expect(r.code()).To(Equal(server.CodeRouteNotFound))
		enc, _ := encapsulate(cfg, innerReq{method: http.MethodGet, path: server.HealthPath})
		Expect(postEncapsulated(off, enc, ohttp.RequestMediaType).Status).To(Equal(http.StatusNotFound))
	})
})

var _ = Describe("OHTTP gateway keys, kept and rotated like the issuer's", func() {
	const lifetime = time.Hour
	var dir string
	BeforeEach(func() { dir = GinkgoT().TempDir() })
	startWith := func() *running {
		GinkgoHelper()
		r, err := start(func(o *aegisd.Options) {
			o.IssuerDir = dir
			o.TokenType = "voprf"
			o.KeyLifetime = lifetime
		})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(r.stop()).To(Succeed()) })
		return r
	}
	keyStore := func() *ohttpkeys.Store {
		GinkgoHelper()
		ks, err := ohttpkeys.Open(filepath.Join(dir, aegisd.GatewayKeyDir), &ohttpkeys.Options{Create: true})
		Expect(err).NotTo(HaveOccurred())
		return ks
	}
	health := innerReq{method: http.MethodGet, path: server.HealthPath}

	It("generates a key on first start in IssuerDir/ohttp (0700, files 0600), and keeps it", func() {
		r := startWith()
		cfgs, _ := gatewayConfigs(r)
		Expect(cfgs).To(HaveLen(1))
		Expect(modeOf(filepath.Join(dir, aegisd.GatewayKeyDir))).To(Equal(os.ModeDir | 0o700))
		Expect(modeOf(filepath.Join(dir, aegisd.GatewayKeyDir, "00.key"))).To(Equal(os.FileMode(0o600)))
		Expect(r.stop()).To(Succeed())
		again := startWith()
		cfgs2, r2 := gatewayConfigs(again)
		Expect(cfgs2).To(HaveLen(1))
		Expect(cfgs2[0].PublicKey).To(Equal(cfgs[0].PublicKey))
		// A quarter of the lifetime, at most an hour.
		Expect(r2.Header.Get("Cache-Control")).To(Equal("public, max-age=900"))
	})

	It("publishes a successor past half the lifetime, and still opens requests to the old key", func() {
		old, err := keyStore().Rotate(time.Now().Add(-lifetime * 6 / 10))
		Expect(err).NotTo(HaveOccurred())
		r := startWith()
		cfgs, _ := gatewayConfigs(r)
		Expect(cfgs).To(HaveLen(2))
		// In force first (the old key, until the successor's not-before), then the successor.
		Expect(cfgs[0].KeyID).To(Equal(old.KeyID()))
		Expect(cfgs[1].KeyID).To(Equal(old.KeyID() + 1))
		for _, c := range cfgs {
			Expect(through(r, c, health).Status).To(Equal(http.StatusOK), "key %d", c.KeyID)
		}
	})

	It("replaces and removes a key past its lifetime: requests to it get the ohttp-key problem", func() {
		old, err := keyStore().Rotate(time.Now().Add(-2 * lifetime))
		Expect(err).NotTo(HaveOccurred())
		r := startWith()
		cfgs, _ := gatewayConfigs(r)
		Expect(cfgs).To(HaveLen(1))
		Expect(cfgs[0].KeyID).NotTo(Equal(old.KeyID()))
		keys, err := keyStore().Keys()
		Expect(err).NotTo(HaveOccurred())
		Expect(keys).To(HaveLen(1))
		enc, _ := encapsulate(old.Config(), health)
		res := postEncapsulated(r, enc, ohttp.RequestMediaType)
		Expect(res.Status).To(Equal(http.StatusBadRequest))
		Expect(problemOf(res).Error.Code).To(Equal(server.CodeOHTTPUnknownKey))
		Expect(through(r, cfgs[0], health).Status).To(Equal(http.StatusOK))
	})

	It("cycles key ids through 0..255, skipping ids held", func() {
		ks := keyStore()
		k, err := ks.Current()
		Expect(err).NotTo(HaveOccurred())
		Expect(k.KeyID()).To(Equal(uint8(0)))
		var last *ohttpkeys.Key
		for i := 1; i <= 256; i++ {
			last, err = ks.Rotate(time.Now().Add(time.Duration(i) * time.Second))
			if i < 256 {
				Expect(err).NotTo(HaveOccurred())
				Expect(last.KeyID()).To(Equal(uint8(i)))
			}
		}
		Expect(err).To(MatchError(domain.ErrInvalidInput))
		Expect(ks.Retire(3)).To(Succeed())
		next, err := ks.Rotate(time.Now().Add(time.Hour))
		Expect(err).NotTo(HaveOccurred())
		Expect(next.KeyID()).To(Equal(uint8(3)))
	})
})

func modeOf(path string) os.FileMode {
	GinkgoHelper()
	fi, err := os.Stat(path)
	Expect(err).NotTo(HaveOccurred())
	return fi.Mode()
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// metricLine returns the line of metric name in a Prometheus text dump.
func metricLine(dump, name string) string {
	for _, l := range strings.Split(dump, "\n") {
		if strings.HasPrefix(l, name+" ") {
			return l
		}
	}
	return ""
}
