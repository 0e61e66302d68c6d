package main_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/apps/internal/aegisd"
	"github.com/ai-pantheon/aegis/apps/internal/aegisd/aegisdtest"
)

func TestAegisLoad(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "aegis-load: the load generator end to end (built binary against aegisd on 127.0.0.1)")
}

const attestSecret = "load-generator-attestation-secret"

var (
	binary     string // the built aegis-load
	serverURL  string // an aegisd on 127.0.0.1 with a file store and a file ledger
	secretFile string // its attestation secret
	objectsDir string // its object directory
)

var _ = SynchronizedBeforeSuite(func() []byte {
	dir, err := os.MkdirTemp("", "aegis-load-bin-")
	Expect(err).NotTo(HaveOccurred())
	bin := filepath.Join(dir, "aegis-load")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), string(out))
	return []byte(bin)
}, func(bin []byte) {
	binary = string(bin)
	base, err := os.MkdirTemp("", "aegis-load-server-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, base)
	secretFile = filepath.Join(base, "attest-secret")
	Expect(os.WriteFile(secretFile, []byte(attestSecret+"\n"), 0o600)).To(Succeed())
	objectsDir = filepath.Join(base, "objects")
	srv, err := aegisdtest.Start(aegisd.Options{
		Store:            "file://" + objectsDir,
		Ledger:           "file://" + filepath.Join(base, "ledger"),
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

// run runs aegis-load with args and a clean environment.
func run(args ...string) result {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + GinkgoT().TempDir()}
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
