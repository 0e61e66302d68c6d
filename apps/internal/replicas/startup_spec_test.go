package replicas_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/adapters/httpwire"
	"github.com/ai-pantheon/aegis/adapters/s3blob"
	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/domain"
)

// closedPort returns a loopback port nothing listens on.
func closedPort() int {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	port := ln.Addr().(*net.TCPAddr).Port
	Expect(ln.Close()).To(Succeed())
	return port
}

// withQuery returns the S3 URL with query parameter k set to v, or with the
// bucket replaced when k is "bucket".
func withQuery(raw, k, v string) string {
	GinkgoHelper()
	u, err := url.Parse(raw)
	Expect(err).NotTo(HaveOccurred())
	if k == "bucket" {
		u.Host = v
		return u.String()
	}
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.String()
}

var _ = Describe("aegisd with S3 and Redis it cannot use", func() {
	// refuses runs aegisd with store, ledger and env and expects it to exit
	// non-zero at once, naming the problem, without listening and without
	// creating a local store or ledger in its working directory.
	refuses := func(store, ledger string, env []string, want string) {
		GinkgoHelper()
		dir := GinkgoT().TempDir()
		r := runAegisd(dir, env, "--listen", "127.0.0.1:0", "--store", store, "--ledger", ledger,
			"--issuer-dir", issuerDir, "--attest-secret-file", secretFile, "--key-lifetime", "720h")
		Expect(r.exited(90 * time.Second)).NotTo(Equal(0))
		Expect(r.Stderr.String()).To(ContainSubstring(want))
		Expect(r.Stderr.String()).NotTo(ContainSubstring("listening on"))
		entries, err := os.ReadDir(dir)
		Expect(err).NotTo(HaveOccurred())
		Expect(entries).To(BeEmpty(), "aegisd created files in its working directory")
	}

	It("refuses to start on an unreachable S3 endpoint", func() {
		port := closedPort()
		refuses(withQuery(freshPrefix(), "endpoint", fmt.Sprintf("127.0.0.1:%d", port)), redisURL, aegisdEnv(), "S3 endpoint unreachable")
	})
	It("refuses to start on a bucket that does not exist", func() {
		refuses(withQuery(freshPrefix(), "bucket", "no-such-bucket-aegis"), redisURL, aegisdEnv(), "S3 bucket does not exist")
	})
	It("refuses to start with wrong S3 credentials", func() {
		env := append(aegisdEnv(), "AWS_SECRET_ACCESS_KEY=not-the-secret") // the later value wins
		refuses(freshPrefix(), redisURL, env, "S3 credentials refused")
	})
	It("refuses to start on an unreachable Redis", func() {
		refuses(freshPrefix(), fmt.Sprintf("redis://127.0.0.1:%d/0", closedPort()), aegisdEnv(), "Redis unreachable")
	})
	It("refuses to start with a wrong Redis password", func() {
		if redisPass == "" {
			if os.Getenv("AEGIS_TEST_SERVICES") == "1" {
				Fail("AEGIS_TEST_REDIS_PASSWORD is not set although AEGIS_TEST_SERVICES=1 (make test-services sets it)")
			}
			Skip("the suite's Redis has no password")
		}
		env := append(aegisdEnv(), "AEGISD_REDIS_PASSWORD=not-the-password")
		refuses(freshPrefix(), redisURL, env, "Redis refused the password")
	})

	It("fails closed when Redis goes away: no token is accepted unverified, nothing is stored", func() {
		redisServer, err := exec.LookPath("redis-server")
		if err != nil {
			Fail("redis-server is not on PATH (make test-services installs it)")
		}
		port := closedPort()
		rs := exec.Command(redisServer, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", GinkgoT().TempDir())
		rs.Stdout, rs.Stderr = GinkgoWriter, GinkgoWriter
		Expect(rs.Start()).To(Succeed())
		redisGone := make(chan struct{})
		go func() { _ = rs.Wait(); close(redisGone) }()
		DeferCleanup(func() { _ = rs.Process.Kill(); <-redisGone })
		Eventually(func() error {
			c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err == nil {
				_ = c.Close()
			}
			return err
		}, 20*time.Second).Should(Succeed())

		store := freshPrefix()
		r := runAegisd(GinkgoT().TempDir(), aegisdEnv(), "--listen", "127.0.0.1:0", "--store", store,
			"--ledger", fmt.Sprintf("redis://127.0.0.1:%d/0", port), "--issuer-dir", issuerDir,
			"--attest-secret-file", secretFile, "--key-lifetime", "720h")
		Eventually(func() string { return r.Stderr.String() }, 60*time.Second).Should(ContainSubstring("listening on"))
		r.URL = "http://" + listening.FindStringSubmatch(r.Stderr.String())[1]
		DeferCleanup(r.stop)

		ctx, cancel := testCtx()
		defer cancel()
		code, _ := getWith(ctx, r.URL, randomID(), token(ctx, r.URL))
		Expect(code).To(Equal(http.StatusNotFound)) // Redis up: accepted

		tokens := make([][]byte, 3)
		for i := range tokens {
			tokens[i] = token(ctx, r.URL)
		}
		Expect(rs.Process.Signal(syscall.SIGKILL)).To(Succeed())
		<-redisGone

		for _, tok := range tokens {
			code, body := getWith(ctx, r.URL, randomID(), tok)
			Expect(code).To(Equal(http.StatusServiceUnavailable), body)
			Expect(body).To(ContainSubstring("unavailable"))
		}
		// A PUT with a valid token is refused before it reaches the store.
		id := randomID()
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, r.URL+"/v1/objects/"+id.String(),
			bytes.NewReader(make([]byte, domain.KiB)))
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("Authorization", authHeader(token(ctx, r.URL)))
		req.Header.Set(httpwire.WriteEnablerHeader, httpwire.FormatWriteEnabler(enabler(id)))
		resp, err := http.DefaultClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusServiceUnavailable))

		cfg, err := s3blob.ConfigFromEnv(store, nil)
		Expect(err).NotTo(HaveOccurred())
		st, err := s3blob.Open(context.Background(), cfg)
		Expect(err).NotTo(HaveOccurred())
		defer st.Close()
		n := 0
		Expect(st.List(ctx, func(id domain.ObjectID) error {
			if id != server.StoreFormatID {
				n++
			}
			return nil
		})).To(Succeed())
		Expect(n).To(Equal(0), "an object was stored while the ledger was down")
	})
})
