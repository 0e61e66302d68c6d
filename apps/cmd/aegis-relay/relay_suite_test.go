package main_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"

	"github.com/ai-pantheon/aegis/apps/internal/bintest"
	"github.com/ai-pantheon/aegis/apps/internal/relay"
)

func TestAegisRelay(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "aegis-relay: the built binary in front of a fake gateway on 127.0.0.1")
}

var binary string // the built aegis-relay

var _ = SynchronizedBeforeSuite(func() []byte {
	bin, err := bintest.Build(".", "aegis-relay")
	Expect(err).NotTo(HaveOccurred())
	return []byte(bin)
}, func(bin []byte) {
	binary = string(bin)
})

var _ = SynchronizedAfterSuite(func() {}, func() { bintest.Remove(binary) })

// cleanEnv is an environment without AEGIS_RELAY_ variables, plus extra.
func cleanEnv(extra ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + GinkgoT().TempDir()}, extra...)
}

// run runs aegis-relay to its end with args and env.
func run(env []string, args ...string) bintest.Result {
	GinkgoHelper()
	res, err := bintest.Cmd{Bin: binary, Args: args, Env: env}.Run(time.Minute)
	Expect(err).NotTo(HaveOccurred())
	return res
}

var _ = Describe("the aegis-relay binary", func() {
	It("prints its flags and their environment variables with --help, and exits 0", func() {
		res := run(cleanEnv(), "--help")
		Expect(res.Code).To(Equal(0), res.Stderr)
		for _, s := range []string{"aegis-relay", "--gateway", "AEGIS_RELAY_GATEWAY", "--listen", "AEGIS_RELAY_LISTEN", "127.0.0.1:8081",
			"--max-body", "--keys-cache", "--rate", "--burst", "--max-in-flight", "--gateway-timeout", "--request-timeout"} {
			Expect(res.Stdout).To(ContainSubstring(s))
		}
	})

	DescribeTable("refuses bad settings with exit 2 and one clear line",
		func(env []string, args []string, want string) {
			res := run(cleanEnv(env...), args...)
			Expect(res.Code).To(Equal(2), "stdout %q stderr %q", res.Stdout, res.Stderr)
			Expect(strings.TrimSpace(res.Stderr)).To(HavePrefix("aegis-relay: "))
			Expect(res.Stderr).To(ContainSubstring(want))
			Expect(strings.Count(strings.TrimSpace(res.Stderr), "\n")).To(BeZero(), "one line: %q", res.Stderr)
		},
		Entry("no --gateway", nil, []string{"--listen", "127.0.0.1:0"}, "--gateway is required"),
		Entry("a gateway that is not http(s)", nil, []string{"--gateway", "ftp://gw"}, "want an http:// or https:// URL"),
		Entry("a bad gateway from the environment", []string{"AEGIS_RELAY_GATEWAY=gw.example"}, nil, `--gateway "gw.example"`),
		Entry("an unknown flag", nil, []string{"--gateway", "http://127.0.0.1:1", "--nope"}, "unknown flag --nope"),
		Entry("a zero --max-in-flight", nil, []string{"--gateway", "http://127.0.0.1:1", "--max-in-flight", "0"}, "--max-in-flight 0"),
		Entry("a --request-timeout under --gateway-timeout", []string{"AEGIS_RELAY_REQUEST_TIMEOUT=5s"}, []string{"--gateway", "http://127.0.0.1:1"},
			"--request-timeout 5s must exceed --gateway-timeout 30s"),
		Entry("an argument", nil, []string{"--gateway", "http://127.0.0.1:1", "extra"}, `unexpected argument "extra"`),
		Entry("the word version as an argument", nil, []string{"--gateway", "http://127.0.0.1:1", "version"}, `unexpected argument "version"`),
		Entry("an unknown --log-format", nil, []string{"--gateway", "http://127.0.0.1:1", "--log-format", "yaml"}, `--log-format "yaml": want text or json`),
		Entry("an unknown log format from the environment", []string{"AEGIS_RELAY_LOG_FORMAT=logfmt"}, []string{"--gateway", "http://127.0.0.1:1"}, `--log-format "logfmt"`),
	)

	It("prints its name and version with --version and exits 0", func() {
		res := run(cleanEnv(), "--version")
		Expect(res.Code).To(Equal(0), res.Stderr)
		Expect(res.Stdout).To(MatchRegexp(`^aegis-relay version \S+`))
		Expect(res.Stderr).To(BeEmpty())
	})

	It("writes JSON log lines with --log-format json: aegisd's keys only, nothing about the client", func(ctx SpecContext) {
		cmd := exec.Command(binary, "--listen", "127.0.0.1:0", "--gateway", "http://127.0.0.1:1", "--log-format", "json")
		cmd.Env = cleanEnv()
		errBuf := gbytes.NewBuffer()
		cmd.Stdout, cmd.Stderr = io.Discard, errBuf
		Expect(cmd.Start()).To(Succeed())
		DeferCleanup(func() { _ = cmd.Process.Kill() })
		start := regexp.MustCompile(`"msg":"aegis-relay: listening on (127\.0\.0\.1:\d+), gateway http://127\.0\.0\.1:1"`)
		Eventually(errBuf, "20s").Should(gbytes.Say(`listening on`))
		m := start.FindStringSubmatch(string(errBuf.Contents()))
		Expect(m).NotTo(BeNil(), string(errBuf.Contents()))
		for _, method := range []string{http.MethodHead, http.MethodGet} {
			req, err := http.NewRequestWithContext(ctx, method, "http://"+m[1]+"/healthz?who=log-query-4242", nil)
			Expect(err).NotTo(HaveOccurred())
			req.Header.Set("User-Agent", "SpyBrowser/9.9")
			res, err := http.DefaultClient.Do(req)
			Expect(err).NotTo(HaveOccurred())
			res.Body.Close()
			Expect(res.StatusCode).To(Equal(http.StatusOK))
		}
		Expect(cmd.Process.Signal(syscall.SIGTERM)).To(Succeed())
		Expect(cmd.Wait()).To(Succeed())
		keys := map[string]bool{"time": true, "level": true, "msg": true, "method": true, "route": true, "status": true, "size": true}
		var requests int
		for _, l := range strings.Split(strings.TrimSpace(string(errBuf.Contents())), "\n") {
			var e map[string]any
			Expect(json.Unmarshal([]byte(l), &e)).To(Succeed(), l)
			for k := range e {
				Expect(keys).To(HaveKey(k), l)
			}
			Expect(e["time"]).To(MatchRegexp(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d0Z$`))
			Expect(l).NotTo(Or(ContainSubstring("SpyBrowser"), ContainSubstring("log-query")))
			if e["msg"] == "request" {
				requests++
				Expect(e["route"]).To(Equal("/healthz"))
			}
		}
		Expect(requests).To(Equal(2))
	})

	It("starts, prints its listening line, relays, answers /healthz and stops on SIGTERM with exit 0 after finishing an in-flight request", func(ctx SpecContext) {
		var mu sync.Mutex
		var seen [][]byte
		release := make(chan struct{})
		free := sync.OnceFunc(func() { close(release) })
		DeferCleanup(free) // runs before the gateway closes: a failed spec must not leave it blocked
		gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			seen = append(seen, b)
			mu.Unlock()
			if string(b) == "held" {
				<-release
			}
			w.Header().Set("Content-Type", relay.MediaTypeResponse)
			_, _ = w.Write(append([]byte("answer:"), b...))
		}))
		DeferCleanup(gw.Close)

		// The gateway from the environment, the address from a flag.
		cmd := exec.Command(binary, "--listen", "127.0.0.1:0")
		cmd.Env = cleanEnv("AEGIS_RELAY_GATEWAY=" + gw.URL)
		stderr, err := cmd.StderrPipe()
		Expect(err).NotTo(HaveOccurred())
		out := gbytes.NewBuffer()
		cmd.Stdout = out
		Expect(cmd.Start()).To(Succeed())
		exited := make(chan error, 1)
		DeferCleanup(func() {
			_ = cmd.Process.Kill()
		})
		lines := make(chan string, 100)
		go func() {
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
			exited <- cmd.Wait()
		}()

		var first string
		Eventually(lines, "20s").Should(Receive(&first))
		m := regexp.MustCompile(`^time=\S+ level=INFO msg="aegis-relay: listening on (127\.0\.0\.1:\d+), gateway (\S+)"$`).FindStringSubmatch(first)
		Expect(m).NotTo(BeNil(), "start line %q", first)
		Expect(m[2]).To(Equal(gw.URL))
		base := "http://" + m[1]

		c := &http.Client{Timeout: 30 * time.Second}
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			req, err := http.NewRequestWithContext(ctx, method, base+"/healthz", nil)
			Expect(err).NotTo(HaveOccurred())
			res, err := c.Do(req)
			Expect(err).NotTo(HaveOccurred())
			res.Body.Close()
			Expect(res.StatusCode).To(Equal(http.StatusOK))
		}
		res, err := c.Post(base+"/", relay.MediaTypeRequest, strings.NewReader("hello"))
		Expect(err).NotTo(HaveOccurred())
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		Expect(res.StatusCode).To(Equal(http.StatusOK))
		Expect(string(body)).To(Equal("answer:hello"))

		// An in-flight request when SIGTERM arrives.
		held := make(chan string, 1)
		go func() {
			defer GinkgoRecover()
			res, err := c.Post(base+"/", relay.MediaTypeRequest, strings.NewReader("held"))
			Expect(err).NotTo(HaveOccurred())
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			held <- res.Status + " " + string(b)
		}()
		Eventually(func() int { mu.Lock(); defer mu.Unlock(); return len(seen) }, "10s", "5ms").Should(Equal(2))
		Expect(cmd.Process.Signal(syscall.SIGTERM)).To(Succeed())
		// Polls that reach the relay before its listener closes are answered
		// and counted in its closing line, so count them here too.
		polled := 0
		Eventually(func() error {
			res, err := c.Get(base + "/healthz")
			if err == nil {
				res.Body.Close()
				polled++
			}
			return err
		}, "10s", "10ms").Should(HaveOccurred(), "the relay stops taking connections")
		Expect(exited).NotTo(Receive(), "it waits for the in-flight request")
		free()
		Eventually(held, "10s").Should(Receive(Equal("200 OK answer:held")))

		var rest []string
		for l := range lines {
			rest = append(rest, l)
		}
		Eventually(exited, "20s").Should(Receive(BeNil()), "exit status 0")
		Expect(rest).NotTo(BeEmpty())
		answered := 4 + polled
		Expect(rest[len(rest)-1]).To(ContainSubstring(fmt.Sprintf(`msg="aegis-relay: stopped; %d requests answered (2xx: %d,`, answered, answered)))
		Expect(out.Contents()).To(BeEmpty(), "nothing on stdout")
	})
})
