package aegisd_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/apps/internal/aegisd"
	"github.com/ai-pantheon/aegis/domain"
)

var _ = Describe("aegisd's --store and --ledger URLs", func() {
	// runIn runs the built aegisd in an empty working directory with the
	// defaults of every other flag (file://aegisd-data/… store and ledger,
	// aegisd-data/issuer keys) and no AEGISD_ variables. It returns the exit
	// code, standard error and what the directory holds afterwards.
	runIn := func(ctx SpecContext, args ...string) (int, string, []string) {
		bin := aegisdBinary(ctx)
		wd := GinkgoT().TempDir()
		// Bounded: a server that accepted the flags would serve until killed.
		runCtx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		cmd := exec.CommandContext(runCtx, bin, append([]string{"--listen", "127.0.0.1:0"}, args...)...)
		cmd.Dir = wd
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "AEGISD_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		Expect(errors.As(err, &ee)).To(BeTrue(), "aegisd did not fail: %v; %s", err, stderr.String())
		Expect(stdout.String()).To(BeEmpty())
		ents, err := os.ReadDir(wd)
		Expect(err).NotTo(HaveOccurred())
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return ee.ExitCode(), stderr.String(), names
	}

	It("refuses a --store of an unknown scheme: exit 2 (usage), one line naming it and the known schemes, nothing created", func(ctx SpecContext) {
		code, msg, made := runIn(ctx, "--store", "ftp://x")
		Expect(code).To(Equal(2))
		Expect(strings.Count(msg, "\n")).To(Equal(1), "one line: %q", msg)
		Expect(msg).To(HavePrefix(`aegisd: store "ftp://x": unknown scheme "ftp", want file://, memory:// or s3://`))
		Expect(msg).NotTo(ContainSubstring("listening"))
		Expect(made).To(BeEmpty(), "aegisd created files before refusing the store")
	})

	It("refuses a --ledger of an unknown scheme before it creates the store: exit 2 (usage), one line, nothing created", func(ctx SpecContext) {
		code, msg, made := runIn(ctx, "--ledger", "ftp://x")
		Expect(code).To(Equal(2))
		Expect(strings.Count(msg, "\n")).To(Equal(1), "one line: %q", msg)
		Expect(msg).To(HavePrefix(`aegisd: ledger "ftp://x": unknown scheme "ftp", want file://, memory:// or redis://`))
		Expect(made).To(BeEmpty(), "aegisd created files before refusing the ledger")
	})

	It("refuses a value that is not a URL, and never shows a password of an unknown URL", func(ctx SpecContext) {
		code, msg, made := runIn(ctx, "--store", "aegisd-data/objects")
		Expect(code).To(Equal(2))
		Expect(msg).To(HavePrefix(`aegisd: store "aegisd-data/objects": not a URL, want file://, memory:// or s3://`))
		Expect(made).To(BeEmpty())

		code, msg, made = runIn(ctx, "--ledger", "sql://admin:hunter22secret@db.internal/spent")
		Expect(code).To(Equal(2))
		Expect(msg).To(HavePrefix(`aegisd: ledger "sql://REDACTED@db.internal/spent": unknown scheme "sql"`))
		Expect(msg).NotTo(ContainSubstring("hunter22secret"))
		Expect(made).To(BeEmpty())
	})

	It("refuses memory:// with something after it, and file:// without a directory", func(ctx SpecContext) {
		code, msg, made := runIn(ctx, "--store", "memory://x", "--ledger", "memory://")
		Expect(code).To(Equal(1))
		Expect(msg).To(ContainSubstring(`URL "memory://x": want memory:// with nothing after it`))
		Expect(made).To(BeEmpty())

		code, msg, _ = runIn(ctx, "--store", "memory://", "--ledger", "file://")
		Expect(code).To(Equal(1))
		Expect(msg).To(ContainSubstring(`URL "file://": want file://DIR`))
	})

	It("creates a missing file:// store and ledger directory, mode 0700, and serves from them", func(ctx SpecContext) {
		tmp := GinkgoT().TempDir()
		objects, ledger := filepath.Join(tmp, "new", "objects"), filepath.Join(tmp, "new", "ledger")
		srv, err := start(func(o *aegisd.Options) { o.Store, o.Ledger = "file://"+objects, "file://"+ledger })
		Expect(err).NotTo(HaveOccurred())
		defer func() { Expect(srv.stop()).To(Succeed()) }()
		for _, dir := range []string{objects, ledger} {
			fi, err := os.Stat(dir)
			Expect(err).NotTo(HaveOccurred())
			Expect(fi.IsDir()).To(BeTrue())
			Expect(fi.Mode().Perm()).To(Equal(os.FileMode(0o700)))
		}
		store, _, err := newStore(ctx, srv)
		Expect(err).NotTo(HaveOccurred())
		id := newID()
		Expect(store.Put(ctx, id, randomBytes(domain.KiB))).To(Succeed())
		Expect(storedIDs(objects)).To(ContainElement(id), "the object is not in the file:// store")
	})
})
