package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/apps/internal/aegisd"
	"github.com/ai-pantheon/aegis/apps/internal/aegisd/aegisdtest"
	"github.com/ai-pantheon/aegis/apps/internal/relay"
	"github.com/ai-pantheon/aegis/apps/internal/relay/relaytest"
	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

// report is the part of aegis-load's --json output the specs read.
type report struct {
	Clients         int     `json:"clients"`
	Size            int     `json:"size"`
	Requests        int64   `json:"requests"`
	Puts            int64   `json:"puts"`
	Gets            int64   `json:"gets"`
	Errors          int64   `json:"errors"`
	ElapsedS        float64 `json:"elapsed_s"`
	RequestsPerS    float64 `json:"requests_per_s"`
	TokenType       uint16  `json:"token_type"`
	TokenTypeName   string  `json:"token_type_name"`
	TokensBatch     int     `json:"tokens_batch"`
	FetchRoundTrips int64   `json:"fetch_round_trips"`
	Relay           bool    `json:"relay"`
	RelayURL        string  `json:"relay_url"`
	TokensFetched   int64   `json:"tokens_fetched"`
	FetchSeconds    float64 `json:"fetch_seconds"`
	FetchShare      float64 `json:"fetch_share"`
	WaitSeconds     float64 `json:"wait_seconds"`
	WaitShare       float64 `json:"wait_share"`
	Latency         struct {
		P50, P99, P999, Max float64
	} `json:"latency_ms"`
}

var _ = Describe("aegis-load against aegisd on 127.0.0.1", func() {
	It("runs 4 clients for 2 s of mixed PUT/GET with tokens, reports the figures and exits 0", func() {
		before := countFiles(objectsDir, 4096)
		res := run("--server", serverURL, "--attest-secret-file", secretFile, "--clients", "4", "--duration", "2s",
			"--put-ratio", "0.5", "--size", "4KiB", "--tokens-batch", "32", "--json")
		Expect(res.Code).To(Equal(0), "stderr: %s", res.Stderr)
		var r report
		Expect(json.Unmarshal([]byte(res.Stdout), &r)).To(Succeed(), res.Stdout)
		Expect(r.Clients).To(Equal(4))
		Expect(r.Size).To(Equal(4096))
		Expect(r.Errors).To(BeZero())
		Expect(r.Requests).To(BeNumerically(">", 0))
		Expect(r.Puts).To(BeNumerically(">", 0))
		Expect(r.Gets).To(BeNumerically(">", 0), "every client GETs objects it stored (and checks the bytes)")
		Expect(r.Puts + r.Gets).To(Equal(r.Requests))
		Expect(r.ElapsedS).To(BeNumerically(">=", 2))
		Expect(r.RequestsPerS).To(BeNumerically("~", float64(r.Requests)/r.ElapsedS, 0.01))
		// Every token was fetched during the run, in batches of 32: each request
		// spent one, and each client's pool holds fewer than two batches unspent
		// at the end (a background batch can land just after the pool, found
		// empty, fetched one itself).
		Expect(r.TokenType).To(Equal(uint16(privacypass.TypeVOPRFRistretto255)), "the server's default type")
		Expect(r.TokenTypeName).To(Equal(privacypass.TypeVOPRFRistretto255.String()))
		Expect(r.TokensBatch).To(Equal(32))
		Expect(r.FetchRoundTrips).To(BeNumerically(">=", 4), "at least one batch per client")
		Expect(r.TokensFetched).To(Equal(32 * r.FetchRoundTrips))
		Expect(r.TokensFetched).To(BeNumerically(">=", r.Requests))
		Expect(r.TokensFetched - r.Requests).To(BeNumerically("<", 4*2*32))
		Expect(r.FetchSeconds).To(BeNumerically(">", 0))
		Expect(r.FetchShare).To(BeNumerically("~", r.FetchSeconds/r.ElapsedS, 1e-9+1e-6*r.FetchShare))
		// Each client's first request waited for its pool's first batch.
		Expect(r.WaitSeconds).To(BeNumerically(">", 0))
		Expect(r.WaitShare).To(BeNumerically("~", r.WaitSeconds/(4*r.ElapsedS), 1e-9+1e-6*r.WaitShare))
		Expect(r.Latency.P50).To(BeNumerically(">", 0))
		Expect(r.Latency.P50).To(BeNumerically("<=", r.Latency.P99))
		Expect(r.Latency.P99).To(BeNumerically("<=", r.Latency.P999))
		Expect(r.Latency.P999).To(BeNumerically("<=", r.Latency.Max))
		// Every PUT reached the server's disk as one object of the size asked for.
		Expect(countFiles(objectsDir, 4096) - before).To(BeNumerically("==", r.Puts))
	})

	It("prints a report for a person", func() {
		res := run("--server", serverURL, "--attest-secret-file", secretFile, "--clients", "2", "--duration", "1s",
			"--tokens-batch", "16", "--size", "4096")
		Expect(res.Code).To(Equal(0), "stderr: %s", res.Stderr)
		Expect(res.Stdout).To(MatchRegexp(`requests:   [1-9][0-9]* \([0-9]+ PUT, [0-9]+ GET\)`))
		Expect(res.Stdout).To(MatchRegexp(`throughput: [0-9.]+ requests/s`))
		Expect(res.Stdout).To(MatchRegexp(`latency:    p50 [0-9.]+ ms  p99 [0-9.]+ ms  p99.9 [0-9.]+ ms`))
		Expect(res.Stdout).To(ContainSubstring("errors:     0\n"))
		Expect(res.Stdout).To(MatchRegexp(`tokens:     [1-9][0-9]* fetched during the run in [1-9][0-9]* issuance round trips of 16 \(VOPRF\(ristretto255, SHA-512\) \(0x0005\)\)\n`))
		Expect(res.Stdout).To(MatchRegexp(`issuance:   [0-9]+\.[0-9]{2} s summed over the clients' round trips, fetch share [0-9]+\.[0-9]% of the run\n`))
		Expect(res.Stdout).To(MatchRegexp(`waiting:    requests waited [0-9]+\.[0-9]{2} s for tokens, wait share [0-9]+\.[0-9]% of the clients' time\n`))
		Expect(res.Stderr).To(ContainSubstring("aegis-load: run, 2 clients for 1s, tokens fetched during the run in batches of 16"))
	})

	It("counts the requests that fail during the run, reports them and exits 1", func() {
		// An aegisd of its own, stopped in the middle of the run, once the run has
		// stored objects on it (its file store shows them).
		base := GinkgoT().TempDir()
		objects := filepath.Join(base, "objects")
		srv, err := aegisdtest.Start(aegisd.Options{
			Store: "file://" + objects, Ledger: "memory://", IssuerDir: filepath.Join(base, "issuer"),
			AttestSecretFile: secretFile, MaxInFlight: 256, Log: GinkgoWriter,
		})
		Expect(err).NotTo(HaveOccurred())
		defer srv.Stop()

		cmd := exec.Command(binary, "--server", srv.URL, "--attest-secret-file", secretFile,
			"--clients", "2", "--duration", "3s", "--size", "4KiB", "--json")
		var stdout bytes.Buffer
		stderr := &lockedBuffer{}
		cmd.Stdout, cmd.Stderr = &stdout, stderr
		Expect(cmd.Start()).To(Succeed())
		Eventually(stderr.String, 60*time.Second, 20*time.Millisecond).Should(ContainSubstring("aegis-load: run, 2 clients"))
		// Requests of the run have succeeded: objects are on the server's disk (a
		// stopping server finishes the requests in flight, so their answers arrive).
		Eventually(func() int { return countFiles(objects, 4096) }, 3*time.Second, 10*time.Millisecond).
			Should(BeNumerically(">=", 2), "the run stored nothing on the server")
		Expect(srv.Stop()).To(Succeed())
		err = cmd.Wait()
		var ee *exec.ExitError
		Expect(errors.As(err, &ee)).To(BeTrue(), "want a non-zero exit, got %v; stderr: %s", err, stderr.String())
		Expect(ee.ExitCode()).To(Equal(1))
		var r report
		Expect(json.Unmarshal(stdout.Bytes(), &r)).To(Succeed(), stdout.String())
		Expect(r.Errors).To(BeNumerically(">", 0))
		Expect(r.Requests).To(BeNumerically(">", r.Errors), "the requests before the stop succeeded")
		Expect(stderr.String()).To(ContainSubstring("aegis-load: request failed: "))
		Expect(stderr.String()).To(MatchRegexp(`aegis-load: [0-9]+ of [0-9]+ requests failed\n$`))
	})

	It("exits 1 when the server is unreachable", func() {
		res := run("--server", "http://127.0.0.1:1", "--attest-secret-file", secretFile, "--duration", "1s")
		Expect(res.Code).To(Equal(1))
		Expect(res.Stderr).To(HavePrefix("aegis-load: token issuer of http://127.0.0.1:1: "))
		Expect(res.Stdout).To(BeEmpty())
	})

	It("exits 1 when the attestation secret is wrong: each client's first request gets no token, and it stops", func() {
		bad := filepath.Join(GinkgoT().TempDir(), "secret")
		Expect(os.WriteFile(bad, []byte("not the secret\n"), 0o600)).To(Succeed())
		res := run("--server", serverURL, "--attest-secret-file", bad, "--clients", "3", "--duration", "1s", "--json")
		Expect(res.Code).To(Equal(1))
		Expect(res.Stderr).To(ContainSubstring(": token: issuance: privacypass: fetch tokens: aegis/httpblob: token request: attestation_required: the issuer refused the attestation secret\n"))
		Expect(res.Stderr).To(HaveSuffix("aegis-load: 3 of 3 requests failed\n"))
		var r report
		Expect(json.Unmarshal([]byte(res.Stdout), &r)).To(Succeed(), res.Stdout)
		Expect(r.Errors).To(Equal(int64(3)))
		Expect(r.FetchRoundTrips).To(BeZero())
		Expect(r.TokensFetched).To(BeZero())
		Expect(r.TokenType).To(BeZero())
	})

	It("prints its name and version with --version and exits 0", func() {
		res := run("--version")
		Expect(res.Code).To(Equal(0), res.Stderr)
		Expect(res.Stdout).To(MatchRegexp(`^aegis-load version \S+`))
		Expect(res.Stderr).To(BeEmpty())
	})

	DescribeTable("exits 2 on bad flags, naming the flag",
		func(want string, args ...string) {
			res := run(append([]string{"--server", serverURL, "--attest-secret-file", secretFile}, args...)...)
			Expect(res.Code).To(Equal(2), "stderr: %s", res.Stderr)
			Expect(res.Stderr).To(ContainSubstring(want))
			Expect(res.Stdout).To(BeEmpty())
		},
		Entry("no clients", "--clients must be 1 to 1024", "--clients", "0"),
		Entry("a size that is not a bucket", "--size must be a bucket size", "--size", "3000"),
		Entry("a put ratio above 1", "--put-ratio must be 0 to 1", "--put-ratio", "1.5"),
		Entry("a zero duration", "--duration must be positive", "--duration", "0s"),
		Entry("a batch over the maximum", "--tokens-batch must be 1 to", "--tokens-batch", "100000"),
		Entry("the removed --tokens (tokens are fetched during the run)", "unknown flag --tokens", "--tokens", "256"),
		Entry("the removed --warmup", "unknown flag --warmup", "--warmup", "2s"),
		Entry("an unknown flag", "unknown flag --bogus", "--bogus"),
		Entry("a stray argument", `unexpected argument "extra"`, "extra"),
		Entry("a relay that is not an http(s) URL", "--relay must be an http(s) URL", "--relay", "ftp://relay"),
	)

	It("with --relay, sends every request through aegis-relay (token requests included), never dials --server, and reports relay: true", func() {
		var relayLog syncBuffer
		rl, err := relaytest.Start(relay.Options{Gateway: serverURL, Log: &relayLog})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(rl.Stop()).To(Succeed()) })
		before := countFiles(objectsDir, 4096)
		// The --server host only names the target inside the encapsulated
		// requests: it cannot even be resolved.
		res := run("--server", "http://aegisd.invalid", "--relay", rl.URL, "--attest-secret-file", secretFile, "--clients", "2", "--duration", "1s",
			"--size", "4KiB", "--tokens-batch", "16", "--json")
		Expect(res.Code).To(Equal(0), "stderr: %s", res.Stderr)
		var r report
		Expect(json.Unmarshal([]byte(res.Stdout), &r)).To(Succeed(), res.Stdout)
		Expect(r.Relay).To(BeTrue())
		Expect(r.RelayURL).To(Equal(rl.URL))
		Expect(r.Errors).To(BeZero())
		Expect(r.Puts).To(BeNumerically(">", 0))
		Expect(r.Gets).To(BeNumerically(">", 0))
		Expect(r.FetchRoundTrips).To(BeNumerically(">=", 2), "the tokens came through the relay too")
		Expect(countFiles(objectsDir, 4096) - before).To(BeNumerically("==", r.Puts))
		// The relay forwarded every object request and every issuance round trip
		// (and the key configurations; the clients' setup adds a few more).
		Expect(int64(strings.Count(relayLog.String(), "method="))).To(BeNumerically(">=", r.Requests+r.FetchRoundTrips))

		// Without --relay the report says so.
		// (4 KiB objects, as every spec that stores here: countFiles checks the sizes.)
		res = run("--server", serverURL, "--attest-secret-file", secretFile, "--clients", "1", "--duration", "200ms", "--size", "4KiB", "--json")
		Expect(res.Code).To(Equal(0), "stderr: %s", res.Stderr)
		Expect(res.Stdout).To(ContainSubstring(`"relay": false`))
	})

	It("exits 2 without --server", func() {
		res := run("--attest-secret-file", secretFile)
		Expect(res.Code).To(Equal(2))
		Expect(res.Stderr).To(ContainSubstring("--server is required"))
	})
})

// countFiles counts the stored objects under dir: files named by an object
// id (not lock files, not temporary files, not the store-format marker), each
// checked to hold a body of size bytes behind its enabler's hash.
func countFiles(dir string, size int64) int {
	GinkgoHelper()
	n := 0
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return 0
	}
	Expect(filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		id, perr := domain.ParseObjectID(d.Name())
		if d.IsDir() || perr != nil || id == server.StoreFormatID {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		Expect(info.Size()).To(Equal(size+server.EnablerHashSize), path)
		n++
		return nil
	})).To(Succeed())
	return n
}

// lockedBuffer is a bytes.Buffer that a process writes to while a spec reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// syncBuffer is a bytes.Buffer safe for the relay's concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
