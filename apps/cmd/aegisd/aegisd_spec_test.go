package main_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/adapters/httpblob"
	"github.com/ai-pantheon/aegis/adapters/httpwire"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

const testSecret = "aegisd-binary-spec-secret-0123456789"

var _ = Describe("the aegisd binary", func() {
	It("prints its name and version with --version, exits 0 and creates nothing", func() {
		dir := GinkgoT().TempDir()
		res := run(dir, "--version")
		Expect(res.Code).To(Equal(0), res.Stderr)
		Expect(res.Stdout).To(MatchRegexp(`^aegisd version \S+`))
		Expect(entries(dir)).To(BeEmpty())
	})

	It("documents its exit codes and the TLS and log flags in --help, and creates nothing", func() {
		dir := GinkgoT().TempDir()
		res := run(dir, "--help")
		Expect(res.Code).To(Equal(0), res.Stderr)
		Expect(entries(dir)).To(BeEmpty())
		for _, s := range []string{"Exit codes", "2 usage error", "--log-format", "--tls-cert-file", "--tls-key-file", "SIGHUP", "--version"} {
			Expect(res.Stdout).To(ContainSubstring(s))
		}
	})

	DescribeTable("refuses a wrong command line with exit 2 and one clear line, before creating anything",
		func(args []string, want string) {
			dir := GinkgoT().TempDir()
			// Only the defaults: a started aegisd would create aegisd-data/ here.
			res := run(dir, args...)
			Expect(res.Code).To(Equal(2), "stdout %q stderr %q", res.Stdout, res.Stderr)
			Expect(res.Stderr).To(HavePrefix("aegisd: "))
			Expect(res.Stderr).To(ContainSubstring(want))
			Expect(strings.Count(strings.TrimSpace(res.Stderr), "\n")).To(BeZero(), "one line: %q", res.Stderr)
			Expect(entries(dir)).To(BeEmpty(), "nothing created")
		},
		Entry("a positional argument", []string{"version"}, `unexpected argument "version": aegisd takes flags only`),
		Entry("an unknown flag", []string{"--nope"}, "unknown flag --nope"),
		Entry("a malformed value", []string{"--max-in-flight", "many"}, "many"),
		Entry("an unknown --log-format", []string{"--log-format", "xml"}, `--log-format "xml": want text or json`),
		Entry("--tls-cert-file alone", []string{"--tls-cert-file", "cert.pem"}, "--tls-cert-file and --tls-key-file go together"),
		Entry("--tls-key-file alone", []string{"--tls-key-file", "key.pem"}, "--tls-cert-file and --tls-key-file go together"),
	)

	Describe("with TLS", func() {
		var dir, certFile, keyFile string
		BeforeEach(func() {
			dir = GinkgoT().TempDir()
			certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		})

		It("refuses a missing certificate and a key of another certificate with exit 1 and one clear line, creating nothing", func() {
			run1 := func(want string) {
				GinkgoHelper()
				res := run(dir, "--tls-cert-file", certFile, "--tls-key-file", keyFile)
				Expect(res.Code).To(Equal(1), "stderr %q", res.Stderr)
				Expect(res.Stderr).To(HavePrefix("aegisd: "))
				Expect(res.Stderr).To(ContainSubstring(want))
				Expect(strings.Count(strings.TrimSpace(res.Stderr), "\n")).To(BeZero(), "one line: %q", res.Stderr)
				Expect(entries(dir)).NotTo(ContainElement("aegisd-data"), "nothing created")
			}
			run1("--tls-cert-file: open " + certFile + ": no such file or directory")
			writeCert(certFile, keyFile, "first")
			other := filepath.Join(dir, "other")
			Expect(os.Mkdir(other, 0o700)).To(Succeed())
			writeCert(filepath.Join(other, "cert.pem"), filepath.Join(other, "key.pem"), "other")
			Expect(os.Rename(filepath.Join(other, "key.pem"), keyFile)).To(Succeed())
			run1("are not a certificate and its private key")
			Expect(os.WriteFile(certFile, []byte("not PEM\n"), 0o600)).To(Succeed())
			run1("are not a certificate and its private key")
		})

		It("serves HTTPS: healthz and token-authorized PUT and GET for a client trusting the certificate; SIGHUP swaps the pair, a bad pair keeps the old one", func(ctx SpecContext) {
			first := writeCert(certFile, keyFile, "first")
			secretFile := filepath.Join(dir, "secret")
			Expect(os.WriteFile(secretFile, []byte(testSecret+"\n"), 0o600)).To(Succeed())
			p := start(dir, "--listen", "127.0.0.1:0", "--tls-cert-file", certFile, "--tls-key-file", keyFile, "--attest-secret-file", secretFile)
			Expect(p.Stderr.String()).To(ContainSubstring("(HTTPS;"))
			Expect(p.Stderr.String()).NotTo(ContainSubstring("without TLS"))
			base := "https://" + p.Addr
			client := trusting(first)

			for _, method := range []string{http.MethodGet, http.MethodHead} {
				req, err := http.NewRequestWithContext(ctx, method, base+"/healthz", nil)
				Expect(err).NotTo(HaveOccurred())
				res, err := client.Do(req)
				Expect(err).NotTo(HaveOccurred())
				res.Body.Close()
				Expect(res.StatusCode).To(Equal(http.StatusOK), method)
			}
			// Plain HTTP on the TLS port gets no answer of the API.
			res, err := http.Get("http://" + p.Addr + "/healthz")
			if err == nil {
				res.Body.Close()
				Expect(res.StatusCode).To(Equal(http.StatusBadRequest))
			}

			pool, err := httpblob.NewTokenPool(ctx, base, []byte(testSecret), &httpblob.PoolOptions{Batch: 8, Client: client})
			Expect(err).NotTo(HaveOccurred())
			st, err := httpblob.Open(base, &httpblob.Options{Tokens: pool, Client: client})
			Expect(err).NotTo(HaveOccurred())
			var enabler domain.WriteEnabler
			_, _ = rand.Read(enabler[:])
			store := st.Guarded(func(domain.ObjectID) domain.WriteEnabler { return enabler })
			id, err := domain.NewObjectID(nil)
			Expect(err).NotTo(HaveOccurred())
			data := make([]byte, domain.KiB)
			_, _ = rand.Read(data)
			Expect(store.Put(ctx, id, data)).To(Succeed())
			got, err := store.Get(ctx, id)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(data))
			Expect(served(p.local()).Equal(first)).To(BeTrue())

			// A new pair in the same files, SIGHUP: new connections get it.
			second := writeCert(certFile, keyFile, "second")
			Expect(p.Cmd.Process.Signal(syscall.SIGHUP)).To(Succeed())
			Eventually(func() bool { return served(p.local()).Equal(second) }, "20s", "20ms").Should(BeTrue())
			// The swap comes before its log line: wait for the line too.
			Eventually(p.Stderr.String, "20s", "20ms").Should(ContainSubstring("aegisd: TLS certificate reloaded from " + certFile))
			res, err = trusting(second).Get(base + "/healthz")
			Expect(err).NotTo(HaveOccurred())
			res.Body.Close()
			Expect(res.StatusCode).To(Equal(http.StatusOK))
			_, err = trusting(first).Get(base + "/healthz")
			Expect(err).To(HaveOccurred(), "the first certificate is no longer served")

			// A key of another certificate, SIGHUP: logged, the second pair stays.
			other := filepath.Join(dir, "other")
			Expect(os.Mkdir(other, 0o700)).To(Succeed())
			writeCert(filepath.Join(other, "cert.pem"), filepath.Join(other, "key.pem"), "other")
			Expect(os.Rename(filepath.Join(other, "key.pem"), keyFile)).To(Succeed())
			Expect(p.Cmd.Process.Signal(syscall.SIGHUP)).To(Succeed())
			Eventually(p.Stderr.String, "20s", "20ms").Should(ContainSubstring("TLS certificate reload failed; serving the previous certificate"))
			Expect(p.Stderr.String()).To(ContainSubstring("are not a certificate and its private key"))
			Expect(served(p.local()).Equal(second)).To(BeTrue())
			got, err = store.Get(ctx, id)
			Expect(err).To(HaveOccurred(), "the client trusting only the first certificate")
			_ = got
			p.stop()
		})
	})

	It("warns when it listens beyond loopback without TLS, not on loopback", func() {
		dir := GinkgoT().TempDir()
		p := start(dir, "--listen", "0.0.0.0:0")
		Eventually(p.Stderr.String, "10s").Should(ContainSubstring("beyond loopback without TLS"))
		Expect(p.Stderr.String()).To(MatchRegexp(`(?m)^time=\S+ level=WARN msg="aegisd: listening on \S+ beyond loopback without TLS: .*--tls-cert-file and --tls-key-file`))
		p.stop()
		q := start(dir, "--listen", "127.0.0.1:0")
		Expect(q.Stderr.String()).To(ContainSubstring("(plain HTTP;"))
		q.stop()
		Expect(q.Stderr.String()).NotTo(ContainSubstring("WARN"))
	})

	It("answers HEAD /healthz 200, no-store on every object answer, counts a challenge probe as a challenge and serves Go, process and its own metrics without client labels", func(ctx SpecContext) {
		dir := GinkgoT().TempDir()
		secretFile := filepath.Join(dir, "secret")
		Expect(os.WriteFile(secretFile, []byte(testSecret+"\n"), 0o600)).To(Succeed())
		p := start(dir, "--listen", "127.0.0.1:0", "--attest-secret-file", secretFile, "--log-format", "json")
		base := "http://" + p.Addr
		c := &http.Client{}
		do := func(method, path string, body []byte, hdr map[string]string) *http.Response {
			GinkgoHelper()
			req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
			Expect(err).NotTo(HaveOccurred())
			req.Header.Set("User-Agent", "SpyBrowser/9.9 (binary-agent-5150)")
			req.Header.Set("X-Forwarded-For", "203.0.113.77")
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			res, err := c.Do(req)
			Expect(err).NotTo(HaveOccurred())
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			return res
		}
		res := do(http.MethodHead, "/healthz", nil, nil)
		Expect(res.StatusCode).To(Equal(http.StatusOK))

		// The probe of a client (no Authorization): the challenge, no-store.
		id, err := domain.NewObjectID(nil)
		Expect(err).NotTo(HaveOccurred())
		obj := "/v1/objects/" + id.String()
		res = do(http.MethodGet, obj, nil, nil)
		Expect(res.StatusCode).To(Equal(http.StatusUnauthorized))
		Expect(res.Header.Get("WWW-Authenticate")).To(HavePrefix("PrivateToken "))
		Expect(res.Header.Get("Cache-Control")).To(Equal("no-store"))
		// A malformed token: refused, counted as invalid, no-store.
		res = do(http.MethodGet, obj, nil, map[string]string{"Authorization": "PrivateToken token=AAAA"})
		Expect(res.StatusCode).To(Equal(http.StatusUnauthorized))
		Expect(res.Header.Get("Cache-Control")).To(Equal("no-store"))

		// With tokens: 400, 404, 204, 200, 412, each no-store.
		pool, err := httpblob.NewTokenPool(ctx, base, []byte(testSecret), &httpblob.PoolOptions{Batch: 8})
		Expect(err).NotTo(HaveOccurred())
		tok := func() map[string]string {
			t, err := pool.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			return map[string]string{"Authorization": privacypass.FormatAuthorization(t)}
		}
		enabler := httpwire.WriteEnablerHeader
		var e domain.WriteEnabler
		_, _ = rand.Read(e[:])
		we := httpwire.FormatWriteEnabler(e)
		with := func(m map[string]string, kv ...string) map[string]string {
			for i := 0; i < len(kv); i += 2 {
				m[kv[i]] = kv[i+1]
			}
			return m
		}
		for _, c := range []struct {
			method, path string
			body         []byte
			hdr          map[string]string
			status       int
		}{
			{http.MethodGet, "/v1/objects/not-an-id", nil, tok(), http.StatusBadRequest},
			{http.MethodGet, obj, nil, tok(), http.StatusNotFound},
			{http.MethodPut, obj, make([]byte, domain.KiB), with(tok(), enabler, we), http.StatusNoContent},
			{http.MethodGet, obj, nil, tok(), http.StatusOK},
			{http.MethodPut, obj, make([]byte, domain.KiB), with(tok(), enabler, we, "If-Match", `"nope"`), http.StatusPreconditionFailed},
			{http.MethodDelete, obj, nil, with(tok(), enabler, we), http.StatusNoContent},
		} {
			res := do(c.method, c.path, c.body, c.hdr)
			Expect(res.StatusCode).To(Equal(c.status), "%s %s", c.method, c.path)
			Expect(res.Header.Get("Cache-Control")).To(Equal("no-store"), "%s %s %d", c.method, c.path, c.status)
		}

		res, err = c.Get(base + "/metrics")
		Expect(err).NotTo(HaveOccurred())
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		Expect(err).NotTo(HaveOccurred())
		Expect(res.StatusCode).To(Equal(http.StatusOK))
		Expect(res.Header.Get("Cache-Control")).To(Equal("no-store"))
		m := string(b)
		Expect(m).To(MatchRegexp(`(?m)^go_goroutines \d+`))
		Expect(m).To(MatchRegexp(`(?m)^process_cpu_seconds_total \S+`))
		Expect(m).To(MatchRegexp(`(?m)^process_resident_memory_bytes \S+`))
		Expect(m).To(MatchRegexp(`(?m)^aegisd_token_challenges_total [1-9]`), "the probes (ours and the token pool's)")
		Expect(m).To(MatchRegexp(`(?m)^aegisd_tokens_rejected_total\{reason="invalid"\} 1$`))
		Expect(m).To(MatchRegexp(`(?m)^aegisd_tokens_redeemed_total [1-9]`))
		Expect(m).To(MatchRegexp(`(?m)^aegisd_requests_total\{code="2xx",method="HEAD",route="/healthz"\} 1$`))
		Expect(m).To(MatchRegexp(`(?m)^aegisd_requests_total\{code="4xx",method="GET",route="/v1/objects/:id"\} \d+$`))
		Expect(m).To(MatchRegexp(`(?m)^aegisd_object_bytes_received_total [1-9]`))
		Expect(m).To(ContainSubstring("aegisd_in_flight_requests"))
		Expect(m).NotTo(ContainSubstring(`reason="missing"`))
		// Only bounded labels: no client, address, agent, path or id.
		label := regexp.MustCompile(`([a-z_]+)="`)
		allowed := map[string]bool{"method": true, "route": true, "code": true, "reason": true, "quantile": true, "version": true, "le": true}
		for _, l := range lines(m) {
			if strings.HasPrefix(l, "#") {
				continue
			}
			for _, k := range label.FindAllStringSubmatch(l, -1) {
				Expect(allowed).To(HaveKey(k[1]), l)
			}
			for _, s := range []string{"127.0.0.1", "SpyBrowser", "203.0.113.77", id.String()} {
				Expect(l).NotTo(ContainSubstring(s))
			}
		}

		// The JSON log: one object a line, only the allowed keys, nothing of the client.
		p.stop()
		keys := map[string]bool{"time": true, "level": true, "msg": true, "method": true, "route": true, "status": true, "size": true}
		var requests int
		for _, l := range lines(p.Stderr.String()) {
			var e map[string]any
			Expect(json.Unmarshal([]byte(l), &e)).To(Succeed(), l)
			for k := range e {
				Expect(keys).To(HaveKey(k), l)
			}
			Expect(e["time"]).To(MatchRegexp(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d0Z$`))
			if e["msg"] == "request" {
				requests++
				Expect(e["route"]).To(BeElementOf("/healthz", "/metrics", "/v1/objects/:id", "/v1/token-requests", "/.well-known/private-token-issuer-directory", "unmatched"), l)
			}
			for _, s := range []string{"SpyBrowser", "203.0.113.77", id.String(), "not-an-id"} {
				Expect(l).NotTo(ContainSubstring(s))
			}
		}
		Expect(requests).To(BeNumerically(">=", 10))
		Expect(p.Stderr.String()).To(ContainSubstring(`"msg":"aegisd: stopped"`))
	})
})
