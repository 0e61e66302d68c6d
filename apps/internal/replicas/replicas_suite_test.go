package replicas_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestReplicas(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "aegisd: two replicas on one S3 bucket and one Redis")
}

const attestSecret = "correct-horse-battery-staple-attestation"

// The services, from the environment `make test-services` sets.
var (
	s3URL       string // s3://BUCKET[/PREFIX]?endpoint=…&region=…&tls=false
	redisURL    string // redis://HOST:PORT/DB
	redisPass   string
	awsKeyID    string
	awsSecret   string
	aegisdBin   string
	aegisBin    string
	issuerDir   string // shared by every replica of the suite
	secretFile  string
	binariesDir string
)

var _ = SynchronizedBeforeSuite(func() []byte {
	need := []string{"AEGIS_TEST_S3_URL", "AEGIS_TEST_REDIS_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
	var missing []string
	for _, v := range need {
		if os.Getenv(v) == "" {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		msg := "two-replica suite not run: it needs an S3-compatible server and Redis (" + strings.Join(missing, ", ") +
			" unset); `make test-services` starts both and runs it"
		// AEGIS_TEST_SERVICES=1 says the services were meant to be there. An S3
		// URL without its keys is a configuration half done, on which the s3blob
		// suite fails too: a skip here would pass for a success.
		halfS3 := os.Getenv("AEGIS_TEST_S3_URL") != "" &&
			(os.Getenv("AWS_ACCESS_KEY_ID") == "" || os.Getenv("AWS_SECRET_ACCESS_KEY") == "")
		if os.Getenv("AEGIS_TEST_SERVICES") == "1" || halfS3 {
			Fail(msg)
		}
		Skip(msg)
	}
	dir, err := os.MkdirTemp("", "aegis-replicas-bin-")
	Expect(err).NotTo(HaveOccurred())
	for _, c := range []string{"aegisd", "aegis"} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, c), "../../cmd/"+c).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
	}
	return []byte(dir)
}, func(dir []byte) {
	binariesDir = string(dir)
	aegisdBin = filepath.Join(binariesDir, "aegisd")
	aegisBin = filepath.Join(binariesDir, "aegis")
	s3URL = os.Getenv("AEGIS_TEST_S3_URL")
	redisURL = os.Getenv("AEGIS_TEST_REDIS_URL")
	redisPass = os.Getenv("AEGIS_TEST_REDIS_PASSWORD")
	awsKeyID = os.Getenv("AWS_ACCESS_KEY_ID")
	awsSecret = os.Getenv("AWS_SECRET_ACCESS_KEY")
	base, err := os.MkdirTemp("", "aegis-replicas-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, base)
	issuerDir = filepath.Join(base, "issuer")
	secretFile = filepath.Join(base, "attest-secret")
	Expect(os.WriteFile(secretFile, []byte(attestSecret+"\n"), 0o600)).To(Succeed())
})

var _ = SynchronizedAfterSuite(func() {}, func() {
	if binariesDir != "" {
		_ = os.RemoveAll(binariesDir)
	}
})

// freshPrefix returns the suite's S3 URL with a new random prefix appended,
// so that each spec sees an empty store.
func freshPrefix() string {
	GinkgoHelper()
	u, err := url.Parse(s3URL)
	Expect(err).NotTo(HaveOccurred())
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	u.Path = strings.TrimSuffix(u.Path, "/") + "/replicas-" + hex.EncodeToString(b)
	return u.String()
}

// syncBuffer collects a process's standard error.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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

// replica is one aegisd process.
type replica struct {
	cmd    *exec.Cmd
	URL    string
	Stderr *syncBuffer
	done   chan struct{}
	code   int
}

var listening = regexp.MustCompile(`listening on (127\.0\.0\.1:[0-9]+)`)

// aegisdEnv is the environment of an aegisd: the S3 credentials and the
// Redis password, nothing else from the test's environment but PATH.
func aegisdEnv(extra ...string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "AWS_ACCESS_KEY_ID=" + awsKeyID, "AWS_SECRET_ACCESS_KEY=" + awsSecret}
	if redisPass != "" {
		env = append(env, "AEGISD_REDIS_PASSWORD="+redisPass)
	}
	return append(env, extra...)
}

// runAegisd starts aegisd with args in dir and returns without waiting.
func runAegisd(dir string, env []string, args ...string) *replica {
	GinkgoHelper()
	r := &replica{Stderr: &syncBuffer{}, done: make(chan struct{})}
	r.cmd = exec.Command(aegisdBin, args...)
	r.cmd.Dir = dir
	r.cmd.Env = env
	r.cmd.Stdout = GinkgoWriter
	pr, pw := io.Pipe()
	r.cmd.Stderr = pw
	Expect(r.cmd.Start()).To(Succeed())
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			fmt.Fprintln(r.Stderr, sc.Text())
			fmt.Fprintln(GinkgoWriter, "aegisd:", sc.Text())
		}
	}()
	go func() {
		_ = r.cmd.Wait()
		r.code = r.cmd.ProcessState.ExitCode()
		_ = pw.Close()
		close(r.done)
	}()
	return r
}

// startReplica starts an aegisd on store and ledger, with the suite's shared
// issuer directory, and waits until it listens.
func startReplica(store string) *replica {
	GinkgoHelper()
	r := runAegisd(GinkgoT().TempDir(), aegisdEnv(),
		"--listen", "127.0.0.1:0", "--store", store, "--ledger", redisURL,
		"--issuer-dir", issuerDir, "--attest-secret-file", secretFile, "--max-in-flight", "512", "--key-lifetime", "720h")
	Eventually(func() string {
		select {
		case <-r.done:
			Fail("aegisd exited early: " + r.Stderr.String())
		default:
		}
		m := listening.FindStringSubmatch(r.Stderr.String())
		if m == nil {
			return ""
		}
		return m[1]
	}, 60*time.Second, 50*time.Millisecond).ShouldNot(BeEmpty(), "aegisd did not start listening: %s", r.Stderr.String())
	r.URL = "http://" + listening.FindStringSubmatch(r.Stderr.String())[1]
	DeferCleanup(r.stop)
	return r
}

// exited waits for the process to end and returns its exit code.
func (r *replica) exited(timeout time.Duration) int {
	GinkgoHelper()
	Eventually(r.done, timeout).Should(BeClosed(), "aegisd did not exit: %s", r.Stderr.String())
	return r.code
}

// stop ends the process with SIGTERM (if it still runs) and expects a clean exit.
func (r *replica) stop() {
	select {
	case <-r.done:
		return
	default:
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	Expect(r.exited(40 * time.Second)).To(Equal(0))
}

// kill ends the process with SIGKILL.
func (r *replica) kill() {
	GinkgoHelper()
	Expect(r.cmd.Process.Signal(syscall.SIGKILL)).To(Succeed())
	r.exited(10 * time.Second)
}

func testCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 3*time.Minute)
}
