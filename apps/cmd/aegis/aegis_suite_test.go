package main_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/apps/internal/aegisd"
	"github.com/ai-pantheon/aegis/apps/internal/aegisd/aegisdtest"
)

func TestAegisCLI(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "aegis: the command-line tool end to end (built binary, local and remote vaults)")
}

const attestSecret = "correct-horse-battery-staple-attestation"

var (
	binary     string // the built aegis
	serverURL  string // an aegisd on 127.0.0.1
	serverData string // its object directory
	secretFile string // its attestation secret
	stopServer func()
)

var _ = SynchronizedBeforeSuite(func() []byte {
	dir, err := os.MkdirTemp("", "aegis-cli-bin-")
	Expect(err).NotTo(HaveOccurred())
	bin := filepath.Join(dir, "aegis")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	out, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), string(out))
	return []byte(bin)
}, func(bin []byte) {
	binary = string(bin)
	base, err := os.MkdirTemp("", "aegis-cli-server-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, base)
	secretFile = filepath.Join(base, "attest-secret")
	Expect(os.WriteFile(secretFile, []byte(attestSecret+"\n"), 0o600)).To(Succeed())
	serverData = filepath.Join(base, "objects")
	srv, err := aegisdtest.Start(aegisd.Options{
		Store:            "file://" + serverData,
		Ledger:           "memory://",
		IssuerDir:        filepath.Join(base, "issuer"),
		AttestSecretFile: secretFile,
		MaxInFlight:      256,
		Log:              GinkgoWriter,
	})
	Expect(err).NotTo(HaveOccurred())
	serverURL = srv.URL
	DeferCleanup(func() { Expect(srv.Stop()).To(Succeed()) })
})

var _ = SynchronizedAfterSuite(func() {}, func() {
	_ = os.RemoveAll(filepath.Dir(binary))
})

// result is one run of the binary.
type result struct {
	Stdout, Stderr string
	Code           int
}

// runner runs the binary in a directory with a clean environment.
type runner struct {
	Dir   string
	Env   []string
	Stdin []byte
}

func (r runner) run(args ...string) result {
	return r.runCtx(context.Background(), args...)
}

func (r runner) runCtx(ctx context.Context, args ...string) result {
	GinkgoHelper()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = r.Dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + r.Dir}, r.Env...)
	if r.Stdin != nil {
		cmd.Stdin = bytes.NewReader(r.Stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		Expect(err).NotTo(HaveOccurred())
	}
	return result{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

func (r runner) with(env ...string) runner {
	r.Env = append(append([]string{}, r.Env...), env...)
	return r
}

func (r runner) input(b []byte) runner {
	r.Stdin = b
	return r
}

// ok expects success and returns the standard output.
func (r runner) ok(args ...string) string {
	GinkgoHelper()
	res := r.run(args...)
	Expect(res.Code).To(Equal(0), "aegis %s: %s", strings.Join(args, " "), res.Stderr)
	return res.Stdout
}

// fails expects exit code code and one error line on stderr that contains want.
func (r runner) fails(code int, want string, args ...string) result {
	GinkgoHelper()
	res := r.run(args...)
	Expect(res.Code).To(Equal(code), "aegis %s: stdout %q stderr %q", strings.Join(args, " "), res.Stdout, res.Stderr)
	Expect(res.Stderr).To(ContainSubstring(want))
	last := strings.TrimSpace(res.Stderr)
	if i := strings.LastIndex(last, "\n"); i >= 0 {
		last = last[i+1:]
	}
	Expect(last).To(HavePrefix("aegis: "))
	return res
}

func writeFile(dir, name, content string) string {
	GinkgoHelper()
	p := filepath.Join(dir, name)
	Expect(os.WriteFile(p, []byte(content), 0o600)).To(Succeed())
	return p
}
