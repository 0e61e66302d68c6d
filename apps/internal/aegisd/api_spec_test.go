package aegisd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/adapters/fsblob"
	"github.com/ai-pantheon/aegis/adapters/httpblob"
	"github.com/ai-pantheon/aegis/apps/internal/aegisd"
	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

type apiErr struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r resp) code() string {
	var e apiErr
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

var _ = Describe("aegisd HTTP API v1", func() {
	var (
		ctx  context.Context
		srv  *running
		pool *privacypass.Pool
	)

	BeforeEach(func() {
		ctx = context.Background()
		var err error
		srv, err = start(nil)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(srv.stop()).To(Succeed()) })
		_, pool, err = newStore(ctx, srv)
		Expect(err).NotTo(HaveOccurred())
	})

	// call sends a request; token true attaches a fresh token.
	call := func(method, path string, body []byte, token bool, hdr map[string]string) resp {
		GinkgoHelper()
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, rd)
		Expect(err).NotTo(HaveOccurred())
		if token {
			tok, err := pool.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			req.Header.Set("Authorization", privacypass.FormatAuthorization(tok))
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := plainClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		Expect(err).NotTo(HaveOccurred())
		return resp{res.StatusCode, res.Header, b}
	}
	objPath := func(id domain.ObjectID) string { return server.ObjectsPath + "/" + id.String() }
	// we returns hdr (a new map) with the write-enabler header of id.
	we := func(id domain.ObjectID, hdr map[string]string) map[string]string {
		h := map[string]string{server.WriteEnablerHeader: enablerHeader(id)}
		for k, v := range hdr {
			h[k] = v
		}
		return h
	}

	Describe("health, metrics and directory", func() {
		It("answers /healthz", func() {
			r := call("GET", "/healthz", nil, false, nil)
			Expect(r.Status).To(Equal(200))
			Expect(string(r.Body)).To(ContainSubstring(`"ok"`))
		})

		It("serves Prometheus counters without client labels, a challenge probe counted as a challenge", func() {
			call("GET", "/healthz", nil, false, nil)
			call("GET", objPath(newID()), nil, false, nil)
			Expect(call("GET", objPath(newID()), nil, true, nil).Status).To(Equal(404)) // fetches 64 tokens
			r := call("GET", "/metrics", nil, false, nil)
			Expect(r.Status).To(Equal(200))
			Expect(r.Header.Get("Content-Type")).To(HavePrefix("text/plain; version=0.0.4"))
			body := string(r.Body)
			Expect(body).To(ContainSubstring(`aegisd_requests_total{code="2xx",method="GET",route="/healthz"} 1`))
			// Requests without Authorization (ours, and the token pool's probe)
			// got the challenge: counted as challenges, not as refused tokens.
			Expect(body).To(MatchRegexp(`(?m)^aegisd_token_challenges_total [1-9]`))
			Expect(body).To(MatchRegexp(`(?m)^aegisd_tokens_rejected_total\{reason="invalid"\} 0$`))
			Expect(body).NotTo(ContainSubstring(`reason="missing"`))
			Expect(body).To(ContainSubstring("aegisd_tokens_issued_total 64"))
			Expect(body).To(ContainSubstring("aegisd_tokens_redeemed_total 1"))
			Expect(body).NotTo(ContainSubstring("127.0.0.1"))
		})

		It("publishes the issuer directory with the challenge's key at the RFC 9578 well-known path", func() {
			Expect(server.DirectoryPath).To(Equal("/.well-known/private-token-issuer-directory"))
			for _, p := range []string{server.DirectoryPath} {
				r := call("GET", p, nil, false, nil)
				Expect(r.Status).To(Equal(200))
				d, err := privacypass.ParseDirectory(r.Body)
				Expect(err).NotTo(HaveOccurred())
				Expect(d.IssuerRequestURI).To(Equal(server.TokenRequestsPath))
				k, err := d.Key(defaultTokenType, time.Now())
				Expect(err).NotTo(HaveOccurred())
				chs, err := privacypass.ParseWWWAuthenticate(call("GET", objPath(newID()), nil, false, nil).Header.Get("WWW-Authenticate"))
				Expect(err).NotTo(HaveOccurred())
				Expect(k.TokenKey).To(Equal(chs[0].TokenKey))
			}
		})
	})

	Describe("token check on object requests", func() {
		It("challenges a request without a token (401, WWW-Authenticate)", func() {
			r := call("GET", objPath(newID()), nil, false, nil)
			Expect(r.Status).To(Equal(401))
			Expect(r.code()).To(Equal(server.CodeTokenRequired))
			chs, err := privacypass.ParseWWWAuthenticate(r.Header.Get("WWW-Authenticate"))
			Expect(err).NotTo(HaveOccurred())
			Expect(chs).To(HaveLen(1))
			Expect(chs[0].TokenKey).NotTo(BeEmpty())
			tc, err := privacypass.ParseTokenChallenge(chs[0].TokenChallenge)
			Expect(err).NotTo(HaveOccurred())
			Expect(tc.TokenType).To(Equal(defaultTokenType))
			Expect(tc.RedemptionContext).To(BeEmpty())
		})

		It("refuses a malformed or forged token (401 token_invalid)", func() {
			r := call("GET", objPath(newID()), nil, false, map[string]string{"Authorization": "PrivateToken token=\"AAAA\""})
			Expect(r.Status).To(Equal(401))
			Expect(r.code()).To(Equal(server.CodeTokenInvalid))
			Expect(r.Header.Get("WWW-Authenticate")).To(HavePrefix("PrivateToken challenge="))

			tok, err := pool.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			tok[len(tok)-1] ^= 1
			r = call("GET", objPath(newID()), nil, false, map[string]string{"Authorization": privacypass.FormatAuthorization(tok)})
			Expect(r.Status).To(Equal(401))
			Expect(r.code()).To(Equal(server.CodeTokenInvalid))

			r = call("GET", objPath(newID()), nil, false, map[string]string{"Authorization": "Bearer " + testSecret})
			Expect(r.Status).To(Equal(401))
		})

		It("refuses a replayed token (401 token_spent), whatever the first request's outcome", func() {
			tok, err := pool.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			h := map[string]string{"Authorization": privacypass.FormatAuthorization(tok)}
			first := call("GET", objPath(newID()), nil, false, h)
			Expect(first.Status).To(Equal(404)) // the token was good; the object absent
			second := call("GET", objPath(newID()), nil, false, h)
			Expect(second.Status).To(Equal(401))
			Expect(second.code()).To(Equal(server.CodeTokenSpent))
			Expect(second.Header.Get("WWW-Authenticate")).NotTo(BeEmpty())
		})

		It("spends the token of a request refused for a bad id", func() {
			tok, err := pool.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			h := map[string]string{"Authorization": privacypass.FormatAuthorization(tok)}
			Expect(call("GET", server.ObjectsPath+"/xyz", nil, false, h).Status).To(Equal(400))
			Expect(call("GET", objPath(newID()), nil, false, h).code()).To(Equal(server.CodeTokenSpent))
		})
	})

	Describe("objects", func() {
		It("puts, gets with an ETag, deletes, and reports absence as 404", func() {
			id, data := newID(), randomBytes(domain.KiB)
			r := call("PUT", objPath(id), data, true, we(id, nil))
			Expect(r.Status).To(Equal(204))
			r = call("GET", objPath(id), nil, true, nil)
			Expect(r.Status).To(Equal(200))
			Expect(r.Body).To(Equal(data))
			Expect(r.Header.Get("ETag")).To(MatchRegexp(`^"[!#-~]+"$`))
			Expect(r.Header.Get("Cache-Control")).To(Equal("no-store"))
			Expect(call("DELETE", objPath(id), nil, true, we(id, nil)).Status).To(Equal(204))
			r = call("GET", objPath(id), nil, true, nil)
			Expect(r.Status).To(Equal(404))
			Expect(r.code()).To(Equal(server.CodeObjectNotFound))
			Expect(call("DELETE", objPath(id), nil, true, we(id, nil)).code()).To(Equal(server.CodeObjectNotFound))
		})

		It("accepts every bucket size and refuses others (400 invalid_size, 413 body_too_large)", func() {
			for _, n := range domain.DefaultBucketSizes {
				id := newID()
				Expect(call("PUT", objPath(id), randomBytes(n), true, we(id, nil)).Status).To(Equal(204), "size %d", n)
			}
			for _, n := range []int{0, 1, 1000, domain.KiB + 1, domain.MiB - 1, domain.MiB + 1} {
				id := newID()
				r := call("PUT", objPath(id), randomBytes(n), true, we(id, nil))
				Expect(r.Status).To(Equal(400), "size %d", n)
				Expect(r.code()).To(Equal(server.CodeInvalidSize))
			}
			id := newID()
			r := call("PUT", objPath(id), randomBytes(2*domain.MiB), true, we(id, nil))
			Expect(r.Status).To(Equal(413))
			Expect(r.code()).To(Equal(server.CodeBodyTooLarge))
		})

		It("refuses non-canonical object ids (400 invalid_object_id)", func() {
			id := newID().String()
			for _, bad := range []string{strings.ToUpper(id), id[:63], id + "0", "0x" + id[2:], id[:62] + "%41"} {
				r := call("PUT", server.ObjectsPath+"/"+bad, randomBytes(domain.KiB), true, we(newID(), nil))
				Expect(r.Status).To(Equal(400), bad)
				Expect(r.code()).To(Equal(server.CodeInvalidObjectID))
			}
		})

		It("does compare-and-swap with If-None-Match: * and If-Match (412 on mismatch)", func() {
			id := newID()
			r := call("PUT", objPath(id), randomBytes(domain.KiB), true, we(id, map[string]string{"If-None-Match": "*"}))
			Expect(r.Status).To(Equal(204))
			v1 := r.Header.Get("ETag")
			Expect(v1).NotTo(BeEmpty())
			r = call("PUT", objPath(id), randomBytes(domain.KiB), true, we(id, map[string]string{"If-None-Match": "*"}))
			Expect(r.Status).To(Equal(412))
			Expect(r.code()).To(Equal(server.CodePreconditionFailed))

			data := randomBytes(4 * domain.KiB)
			r = call("PUT", objPath(id), data, true, we(id, map[string]string{"If-Match": v1}))
			Expect(r.Status).To(Equal(204))
			v2 := r.Header.Get("ETag")
			Expect(v2).NotTo(Equal(v1))
			Expect(call("PUT", objPath(id), randomBytes(domain.KiB), true, we(id, map[string]string{"If-Match": v1})).Status).To(Equal(412))
			g := call("GET", objPath(id), nil, true, nil)
			Expect(g.Body).To(Equal(data))
			Expect(g.Header.Get("ETag")).To(Equal(v2))

			for _, h := range []map[string]string{
				{"If-Match": "*"}, {"If-Match": "W/" + v2}, {"If-None-Match": v2}, {"If-Match": v2, "If-None-Match": "*"},
			} {
				r := call("PUT", objPath(id), randomBytes(domain.KiB), true, we(id, h))
				Expect(r.Status).To(Equal(400), "%v", h)
				Expect(r.code()).To(Equal(server.CodeUnsupportedPrecond))
			}
		})

		It("answers unknown routes and methods with JSON errors", func() {
			r := call("GET", "/v2/nothing", nil, false, nil)
			Expect(r.Status).To(Equal(404))
			Expect(r.code()).To(Equal(server.CodeRouteNotFound))
			r = call("POST", objPath(newID()), nil, false, nil)
			Expect(r.Status).To(Equal(405))
			Expect(r.code()).To(Equal(server.CodeMethodNotAllowed))
		})

		It("has no listing route: GET /v1/objects is 404 route_not_found, with or without a token, and spends none", func() {
			tok, err := pool.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			h := map[string]string{"Authorization": privacypass.FormatAuthorization(tok)}
			for _, p := range []string{server.ObjectsPath, server.ObjectsPath + "?limit=2", server.ObjectsPath + "/"} {
				r := call("GET", p, nil, false, h)
				Expect(r.Status).To(Equal(404), p)
				Expect(r.code()).To(Equal(server.CodeRouteNotFound), p)
				Expect(r.Body).NotTo(ContainSubstring(`"ids"`))
			}
			// The token was never looked at: it is still good.
			Expect(call("GET", objPath(newID()), nil, false, h).code()).To(Equal(server.CodeObjectNotFound))
		})
	})

	Describe("token issuance", func() {
		single := func(auth, contentType string) (resp, *privacypass.Client, *privacypass.Pending) {
			ch := call("GET", objPath(newID()), nil, false, nil)
			chs, err := privacypass.ParseWWWAuthenticate(ch.Header.Get("WWW-Authenticate"))
			Expect(err).NotTo(HaveOccurred())
			c, err := privacypass.NewClient(defaultTokenType, chs[0].TokenKey)
			Expect(err).NotTo(HaveOccurred())
			body, pending, err := c.Request(chs[0].TokenChallenge)
			Expect(err).NotTo(HaveOccurred())
			h := map[string]string{"Content-Type": contentType}
			if auth != "" {
				h["Authorization"] = auth
			}
			return call("POST", server.TokenRequestsPath, body, false, h), c, pending
		}

		It("issues a single token (RFC 9578 media types) that redeems once", func() {
			r, c, pending := single("Bearer "+testSecret, privacypass.RequestMediaType)
			Expect(r.Status).To(Equal(200))
			Expect(r.Header.Get("Content-Type")).To(Equal(privacypass.ResponseMediaType))
			tok, err := c.Finalize(pending, r.Body)
			Expect(err).NotTo(HaveOccurred())
			enc, err := tok.MarshalBinary()
			Expect(err).NotTo(HaveOccurred())
			h := map[string]string{"Authorization": privacypass.FormatAuthorization(enc)}
			Expect(call("GET", objPath(newID()), nil, false, h).Status).To(Equal(404))
			Expect(call("GET", objPath(newID()), nil, false, h).Status).To(Equal(401))
		})

		It("requires the bearer attestation secret (401 attestation_required)", func() {
			for _, auth := range []string{"", "Bearer wrong", "Bearer " + testSecret + "x", "Basic " + testSecret} {
				r, _, _ := single(auth, privacypass.RequestMediaType)
				Expect(r.Status).To(Equal(401), auth)
				Expect(r.code()).To(Equal(server.CodeAttestationRequired))
			}
		})

		It("refuses other media types (415), malformed single requests (400) and malformed batches (422)", func() {
			r, _, _ := single("Bearer "+testSecret, "application/octet-stream")
			Expect(r.Status).To(Equal(415))
			Expect(r.code()).To(Equal(server.CodeUnsupportedMedia))
			r = call("POST", server.TokenRequestsPath, []byte{0, 2, 1}, false,
				map[string]string{"Authorization": "Bearer " + testSecret, "Content-Type": privacypass.RequestMediaType})
			Expect(r.Status).To(Equal(400))
			Expect(r.code()).To(Equal(server.CodeBadRequest))
			for _, ct := range []string{privacypass.BatchRequestMediaType, privacypass.ArbitraryBatchRequestMediaType} {
				r = call("POST", server.TokenRequestsPath, []byte{0, 2, 1}, false,
					map[string]string{"Authorization": "Bearer " + testSecret, "Content-Type": ct})
				Expect(r.Status).To(Equal(422), ct)
				Expect(r.code()).To(Equal(server.CodeUnprocessableBatch), ct)
			}
		})

		It("is disabled without an attestation secret (403)", func() {
			other, err := start(func(o *aegisd.Options) { o.AttestSecretFile = "" })
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func() { Expect(other.stop()).To(Succeed()) })
			req, _ := http.NewRequest("POST", other.URL+server.TokenRequestsPath, bytes.NewReader([]byte{0}))
			req.Header.Set("Authorization", "Bearer "+testSecret)
			res, err := plainClient.Do(req)
			Expect(err).NotTo(HaveOccurred())
			res.Body.Close()
			Expect(res.StatusCode).To(Equal(403))
		})
	})

	Describe("metadata stripping", func() {
		It("logs method, route pattern, status and size bucket only, at 10 s resolution", func() {
			id := newID()
			spy := map[string]string{
				"User-Agent":      "SpyBrowser/9.9 (unique-agent-7731)",
				"Cookie":          "session=cookie-value-5521",
				"X-Forwarded-For": "203.0.113.77",
				"Forwarded":       "for=198.51.100.9",
				"X-Real-Ip":       "192.0.2.44",
			}
			call("PUT", objPath(id), randomBytes(domain.KiB), true, we(id, spy))
			call("GET", objPath(id), nil, true, spy)
			call("GET", "/healthz", nil, false, spy)
			var log string
			format := regexp.MustCompile(`^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d0Z level=INFO msg=request method=[A-Z]+ route=\S+ status=\d{3} size=\S+$`)
			for _, l := range strings.Split(strings.TrimSpace(srv.Log.String()), "\n") {
				if strings.Contains(l, ` level=INFO msg="aegisd: listening on `) { // the server's own address, at start
					continue
				}
				Expect(l).To(MatchRegexp(format.String()), "every request line has exactly these fields")
				log += l + "\n"
			}
			for _, s := range []string{"SpyBrowser", "unique-agent", "cookie-value", "203.0.113.77", "198.51.100.9",
				"192.0.2.44", "127.0.0.1", id.String()} {
				Expect(log).NotTo(ContainSubstring(s))
			}
			// (The token pool's challenge request of BeforeEach is a GET answered 401.)
			line := regexp.MustCompile(`(?m)^time=\S+ level=INFO msg=request method=(GET|PUT) route=/v1/objects/:id status=2\d\d size=\S+$`)
			Expect(line.FindAllString(log, -1)).To(HaveLen(2))
			Expect(log).To(MatchRegexp(`(?m)^time=\S+ level=INFO msg=request method=PUT route=/v1/objects/:id status=204 size=1KiB$`))
		})

		It("ignores forwarded-for headers and echoes no client metadata", func() {
			r := call("GET", objPath(newID()), nil, false, map[string]string{"X-Forwarded-For": "203.0.113.77", "Cookie": "a=b"})
			for k, vs := range r.Header {
				for _, v := range vs {
					Expect(v).NotTo(ContainSubstring("203.0.113.77"), k)
					Expect(v).NotTo(ContainSubstring("127.0.0.1"), k)
				}
			}
			Expect(r.Header.Get("Set-Cookie")).To(BeEmpty())
			Expect(string(r.Body)).NotTo(ContainSubstring("203.0.113.77"))
		})
	})

	Describe("the server", func() {
		// slowPut starts a PUT of one 1 KiB object whose body arrives only
		// when the returned function is called; it returns the status.
		slowPut := func(target *running, p *privacypass.Pool) (finish func(), status <-chan int) {
			GinkgoHelper()
			tok, err := p.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			pr, pw := io.Pipe()
			id := newID()
			req, err := http.NewRequest("PUT", target.URL+objPath(id), pr)
			Expect(err).NotTo(HaveOccurred())
			req.ContentLength = domain.KiB
			req.Header.Set("Authorization", privacypass.FormatAuthorization(tok))
			req.Header.Set(server.WriteEnablerHeader, enablerHeader(id))
			st := make(chan int, 1)
			go func() {
				res, err := plainClient.Do(req)
				if err != nil {
					st <- -1
					return
				}
				res.Body.Close()
				st <- res.StatusCode
			}()
			_, err = pw.Write(make([]byte, 10))
			Expect(err).NotTo(HaveOccurred())
			Eventually(target.App.Handler.Metrics().InFlight, "10s").Should(BeEquivalentTo(1)) // in the handler now
			return func() {
				_, _ = pw.Write(make([]byte, domain.KiB-10))
				_ = pw.Close()
			}, st
		}

		It("finishes in-flight requests on shutdown, then stops cleanly", func() {
			other, err := start(nil)
			Expect(err).NotTo(HaveOccurred())
			_, p, err := newStore(ctx, other)
			Expect(err).NotTo(HaveOccurred())
			finish, status := slowPut(other, p)
			stopped := make(chan error, 1)
			go func() { stopped <- other.stop() }()
			Consistently(stopped, "300ms").ShouldNot(Receive())
			finish()
			Eventually(status, "10s").Should(Receive(Equal(204)))
			Eventually(stopped, "10s").Should(Receive(BeNil()))
		})

		It("refuses requests over the concurrency limit with 503 busy", func() {
			other, err := start(func(o *aegisd.Options) { o.MaxInFlight = 1 })
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func() { Expect(other.stop()).To(Succeed()) })
			_, p, err := newStore(ctx, other)
			Expect(err).NotTo(HaveOccurred())
			finish, status := slowPut(other, p)
			res, err := plainClient.Get(other.URL + "/healthz")
			Expect(err).NotTo(HaveOccurred())
			res.Body.Close()
			Expect(res.StatusCode).To(Equal(503))
			Expect(res.Header.Get("Retry-After")).To(Equal("1"))
			finish()
			Eventually(status, "10s").Should(Receive(Equal(204)))
		})

		It("has timeouts and a header limit", func() {
			h := srv.App.HTTP
			Expect(h.ReadHeaderTimeout).To(BeNumerically(">", 0))
			Expect(h.ReadTimeout).To(BeNumerically(">", 0))
			Expect(h.WriteTimeout).To(BeNumerically(">", 0))
			Expect(h.IdleTimeout).To(BeNumerically(">", 0))
			Expect(h.MaxHeaderBytes).To(Equal(aegisd.MaxHeaderBytes))
		})
	})
})

var _ = Describe("a vault over httpblob on aegisd", func() {
	It("is created, written, reopened and read end to end", func(ctx SpecContext) {
		dir := GinkgoT().TempDir()
		srv, err := start(func(o *aegisd.Options) { o.Store = "file://" + dir }) // bucket sizes enforced
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(srv.stop()).To(Succeed()) })
		store, _, err := newStore(ctx, srv)
		Expect(err).NotTo(HaveOccurred())
		runVaultEndToEnd(ctx, store)

		// Every object the server holds is the hash of its enabler and a body
		// of one of the bucket sizes, which is what GET returns.
		fs, err := fsblob.Open(dir, nil)
		Expect(err).NotTo(HaveOccurred())
		var n int
		Expect(fs.List(ctx, func(id domain.ObjectID) error {
			if id == server.StoreFormatID {
				return nil
			}
			b, err := fs.Get(ctx, id)
			Expect(err).NotTo(HaveOccurred())
			body, err := store.Get(ctx, id)
			Expect(err).NotTo(HaveOccurred())
			// (The Vault derives the enablers from its key: only their hash is here.)
			Expect(b).To(HaveLen(32 + len(body)))
			Expect(b[32:]).To(Equal(body))
			Expect(domain.DefaultBuckets().Allowed(len(body))).To(BeTrue(), "object of %d bytes", len(body))
			n++
			return nil
		})).To(Succeed())
		Expect(n).To(BeNumerically(">", 1))
		Expect(srv.Log.String()).NotTo(ContainSubstring("status=5"))
	})
})

// defaultTokenType is the type of aegisd.DefaultTokenType.
const defaultTokenType = privacypass.TypeVOPRFRistretto255

var _ = Describe("aegisd with each token type", func() {
	for _, tc := range []struct {
		flag string
		typ  privacypass.TokenType
	}{
		{"voprf", privacypass.TypeVOPRF},
		{"1", privacypass.TypeVOPRF},
		{"voprf-ristretto255", privacypass.TypeVOPRFRistretto255},
		{"5", privacypass.TypeVOPRFRistretto255},
		{"blind-rsa", privacypass.TypeBlindRSA},
	} {
		It("issues and redeems tokens of --token-type "+tc.flag, func(ctx SpecContext) {
			srv, err := start(func(o *aegisd.Options) { o.TokenType = tc.flag })
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func() { Expect(srv.stop()).To(Succeed()) })
			// The challenge and the directory are of that type.
			res, err := plainClient.Get(srv.URL + server.ObjectsPath + "/" + newID().String())
			Expect(err).NotTo(HaveOccurred())
			res.Body.Close()
			Expect(res.StatusCode).To(Equal(401))
			chs, err := privacypass.ParseWWWAuthenticate(res.Header.Get("WWW-Authenticate"))
			Expect(err).NotTo(HaveOccurred())
			Expect(chs).To(HaveLen(1))
			ch, err := privacypass.ParseTokenChallenge(chs[0].TokenChallenge)
			Expect(err).NotTo(HaveOccurred())
			Expect(ch.TokenType).To(Equal(tc.typ))
			store, _, err := newStore(ctx, srv)
			Expect(err).NotTo(HaveOccurred())
			id, data := newID(), randomBytes(domain.KiB)
			Expect(store.Put(ctx, id, data)).To(Succeed())
			Expect(store.Get(ctx, id)).To(Equal(data))
		})
	}
	It("refuses an unknown --token-type", func() {
		_, err := start(func(o *aegisd.Options) { o.TokenType = "voprf-p256" })
		Expect(err).To(MatchError(domain.ErrInvalidInput))
	})
})

var _ httpblob.Options
