package aegisd_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/adapters/fsblob"
	"github.com/ai-pantheon/aegis/adapters/httpblob"
	"github.com/ai-pantheon/aegis/adapters/httpwire"
	"github.com/ai-pantheon/aegis/apps/internal/aegisd"
	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

// send sends one request to r with a fresh token of pool (nil: none).
func send(ctx context.Context, r *running, pool *privacypass.Pool, method, path string, body []byte, hdr http.Header) resp {
	GinkgoHelper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.URL+path, rd)
	Expect(err).NotTo(HaveOccurred())
	if pool != nil {
		tok, err := pool.Token(ctx)
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("Authorization", privacypass.FormatAuthorization(tok))
	}
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	res, err := plainClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	Expect(err).NotTo(HaveOccurred())
	return resp{res.StatusCode, res.Header, b}
}

// snapshot reads every file under dir: path (relative) to contents.
func snapshot(dir string) map[string]string {
	GinkgoHelper()
	m := map[string]string{}
	Expect(filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		m[rel] = string(b)
		return nil
	})).To(Succeed())
	return m
}

// storedIDs lists the object ids of a file store directory, as an attacker
// with the server's disk (or an earlier listing) would know them.
func storedIDs(dir string) []domain.ObjectID {
	GinkgoHelper()
	var ids []domain.ObjectID
	for rel := range snapshot(dir) {
		if id, err := domain.ParseObjectID(filepath.Base(rel)); err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// sameAnswer expects two answers to be the same for a client: status, body
// and every header but Date.
func sameAnswer(a, b resp) {
	GinkgoHelper()
	Expect(a.Status).To(Equal(b.Status))
	Expect(string(a.Body)).To(Equal(string(b.Body)))
	ha, hb := a.Header.Clone(), b.Header.Clone()
	ha.Del("Date")
	hb.Del("Date")
	Expect(ha).To(Equal(hb))
}

func weHeader(e domain.WriteEnabler, more ...string) http.Header {
	h := http.Header{server.WriteEnablerHeader: {httpwire.FormatWriteEnabler(e)}}
	for i := 0; i+1 < len(more); i += 2 {
		h.Set(more[i], more[i+1])
	}
	return h
}

var _ = Describe("write-enablers on aegisd", func() {
	var (
		ctx  context.Context
		dir  string
		srv  *running
		pool *privacypass.Pool
		mine domain.WriteEnabler // the enabler objects are created with
		evil domain.WriteEnabler // another one
	)
	objPath := func(id domain.ObjectID) string { return server.ObjectsPath + "/" + id.String() }
	fileOf := func(id domain.ObjectID) string {
		GinkgoHelper()
		b, err := os.ReadFile(filepath.Join(dir, "objects", id.String()[:2], id.String()))
		Expect(err).NotTo(HaveOccurred())
		return string(b)
	}

	BeforeEach(func() {
		ctx = context.Background()
		dir = GinkgoT().TempDir()
		var err error
		srv, err = start(func(o *aegisd.Options) { o.Store = "file://" + dir })
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(srv.stop()).To(Succeed()) })
		_, pool, err = newStore(ctx, srv)
		Expect(err).NotTo(HaveOccurred())
		copy(mine[:], randomBytes(32))
		copy(evil[:], randomBytes(32))
	})

	It("creates an object with its enabler and keeps only the enabler's hash, in front of the body", func() {
		id, body := newID(), randomBytes(domain.KiB)
		Expect(send(ctx, srv, pool, "PUT", objPath(id), body, weHeader(mine)).Status).To(Equal(204))
		h := sha256.Sum256(mine[:])
		Expect(fileOf(id)).To(Equal(string(h[:]) + string(body)))
		Expect(fileOf(id)).NotTo(ContainSubstring(string(mine[:])))
		g := send(ctx, srv, pool, "GET", objPath(id), nil, nil)
		Expect(g.Status).To(Equal(200))
		Expect(g.Body).To(Equal(body))
	})

	It("replaces an object only with the enabler it was created with (else 412, nothing changed)", func() {
		id := newID()
		Expect(send(ctx, srv, pool, "PUT", objPath(id), randomBytes(domain.KiB), weHeader(mine)).Status).To(Equal(204))
		second := randomBytes(4 * domain.KiB)
		Expect(send(ctx, srv, pool, "PUT", objPath(id), second, weHeader(mine)).Status).To(Equal(204))
		// An idempotent resend of the same Put succeeds.
		Expect(send(ctx, srv, pool, "PUT", objPath(id), second, weHeader(mine)).Status).To(Equal(204))
		before := fileOf(id)

		r := send(ctx, srv, pool, "PUT", objPath(id), randomBytes(domain.KiB), weHeader(evil))
		Expect(r.Status).To(Equal(412))
		Expect(r.code()).To(Equal(server.CodePreconditionFailed))
		Expect(fileOf(id)).To(Equal(before))
		Expect(send(ctx, srv, pool, "GET", objPath(id), nil, nil).Body).To(Equal(second))
	})

	It("answers a delete with another enabler exactly as an absent object, and keeps the object", func() {
		id := newID()
		Expect(send(ctx, srv, pool, "PUT", objPath(id), randomBytes(domain.KiB), weHeader(mine)).Status).To(Equal(204))
		before := fileOf(id)
		refused := send(ctx, srv, pool, "DELETE", objPath(id), nil, weHeader(evil))
		Expect(refused.Status).To(Equal(404))
		Expect(refused.code()).To(Equal(server.CodeObjectNotFound))
		absent := send(ctx, srv, pool, "DELETE", objPath(newID()), nil, weHeader(evil))
		sameAnswer(refused, absent)
		Expect(fileOf(id)).To(Equal(before))

		Expect(send(ctx, srv, pool, "DELETE", objPath(id), nil, weHeader(mine)).Status).To(Equal(204))
		Expect(send(ctx, srv, pool, "GET", objPath(id), nil, nil).Status).To(Equal(404))
	})

	It("answers a compare-and-swap with another enabler exactly as one with a stale version", func() {
		id := newID()
		r := send(ctx, srv, pool, "PUT", objPath(id), randomBytes(domain.KiB), weHeader(mine, "If-None-Match", "*"))
		Expect(r.Status).To(Equal(204))
		v1 := r.Header.Get("ETag")
		r = send(ctx, srv, pool, "PUT", objPath(id), randomBytes(domain.KiB), weHeader(mine, "If-Match", v1))
		Expect(r.Status).To(Equal(204))
		v2 := r.Header.Get("ETag")
		before := fileOf(id)

		wrongEnabler := send(ctx, srv, pool, "PUT", objPath(id), randomBytes(domain.KiB), weHeader(evil, "If-Match", v2))
		staleVersion := send(ctx, srv, pool, "PUT", objPath(id), randomBytes(domain.KiB), weHeader(mine, "If-Match", v1))
		both := send(ctx, srv, pool, "PUT", objPath(id), randomBytes(domain.KiB), weHeader(evil, "If-Match", v1))
		Expect(wrongEnabler.Status).To(Equal(412))
		Expect(wrongEnabler.code()).To(Equal(server.CodePreconditionFailed))
		sameAnswer(wrongEnabler, staleVersion)
		sameAnswer(wrongEnabler, both)
		// Create-if-absent over it: the same answer, whatever the enabler.
		sameAnswer(send(ctx, srv, pool, "PUT", objPath(id), randomBytes(domain.KiB), weHeader(evil, "If-None-Match", "*")), wrongEnabler)
		sameAnswer(send(ctx, srv, pool, "PUT", objPath(id), randomBytes(domain.KiB), weHeader(mine, "If-None-Match", "*")), wrongEnabler)
		Expect(fileOf(id)).To(Equal(before))
	})

	It("refuses a PUT or DELETE without exactly one well-formed enabler (400 write_enabler_required) and changes nothing", func() {
		id, absent := newID(), newID()
		Expect(send(ctx, srv, pool, "PUT", objPath(id), randomBytes(domain.KiB), weHeader(mine)).Status).To(Equal(204))
		r := send(ctx, srv, pool, "PUT", objPath(id), randomBytes(domain.KiB), weHeader(mine, "If-None-Match", "*"))
		Expect(r.Status).To(Equal(412))
		before := snapshot(dir)
		good := httpwire.FormatWriteEnabler(mine)
		bad := []http.Header{
			{},
			{server.WriteEnablerHeader: {good, good}},
			{server.WriteEnablerHeader: {""}},
			{server.WriteEnablerHeader: {good + "="}},
			{server.WriteEnablerHeader: {good[:42]}},
			{server.WriteEnablerHeader: {base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32))}},
			{server.WriteEnablerHeader: {base64.RawURLEncoding.EncodeToString(mine[:31])}},
			{server.WriteEnablerHeader: {good[:20] + "+" + good[21:]}},
		}
		for i, h := range bad {
			for _, target := range []domain.ObjectID{id, absent} {
				for _, cond := range [][2]string{{}, {"If-None-Match", "*"}, {"If-Match", `"1"`}} {
					hh := h.Clone()
					if cond[0] != "" {
						hh.Set(cond[0], cond[1])
					}
					r := send(ctx, srv, pool, "PUT", objPath(target), randomBytes(domain.KiB), hh)
					Expect(r.Status).To(Equal(400), "PUT, header %d, %v", i, cond)
					Expect(r.code()).To(Equal(server.CodeWriteEnablerRequired))
				}
				r := send(ctx, srv, pool, "DELETE", objPath(target), nil, h)
				Expect(r.Status).To(Equal(400), "DELETE, header %d", i)
				Expect(r.code()).To(Equal(server.CodeWriteEnablerRequired))
			}
		}
		Expect(snapshot(dir)).To(Equal(before))
	})

	It("keeps the store-format marker out of the clients' reach", func() {
		Expect(fileOf(server.StoreFormatID)).To(Equal(server.StoreFormat))
		p := objPath(server.StoreFormatID)
		for _, r := range []resp{
			send(ctx, srv, pool, "GET", p, nil, nil),
			send(ctx, srv, pool, "PUT", p, randomBytes(domain.KiB), weHeader(mine)),
			send(ctx, srv, pool, "PUT", p, randomBytes(domain.KiB), weHeader(mine, "If-None-Match", "*")),
			send(ctx, srv, pool, "DELETE", p, nil, weHeader(mine)),
		} {
			Expect(r.Status).To(Equal(400))
			Expect(r.code()).To(Equal(server.CodeInvalidObjectID))
			Expect(string(r.Body)).NotTo(ContainSubstring("store format"))
		}
		Expect(fileOf(server.StoreFormatID)).To(Equal(server.StoreFormat))
	})
})

var _ = Describe("aegisd's store format at start", func() {
	It("marks an empty store, and serves it again after a restart", func() {
		dir := GinkgoT().TempDir()
		for range 2 {
			r, err := start(func(o *aegisd.Options) { o.Store = "file://" + dir })
			Expect(err).NotTo(HaveOccurred())
			Expect(r.stop()).To(Succeed())
			st, err := fsblob.Open(dir, nil)
			Expect(err).NotTo(HaveOccurred())
			b, err := st.Get(context.Background(), server.StoreFormatID)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(b)).To(Equal(server.StoreFormat))
		}
	})

	It("starts several replicas on one empty store at once", func() {
		dir := GinkgoT().TempDir()
		const replicas = 6
		errs := make([]error, replicas)
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for i := range replicas {
			wg.Go(func() {
				<-gate
				r, err := start(func(o *aegisd.Options) { o.Store = "file://" + dir })
				if err == nil {
					err = r.stop()
				}
				errs[i] = err
			})
		}
		close(gate)
		wg.Wait()
		for i, err := range errs {
			Expect(err).NotTo(HaveOccurred(), "replica %d", i)
		}
		Expect(storedIDs(dir)).To(Equal([]domain.ObjectID{server.StoreFormatID}))
		Expect(server.PrepareStore(context.Background(), memStoreWithMarker())).To(Succeed())
	})

	It("refuses a store written before write-enablers: exit 1, one line that says what to do, nothing written", func(ctx SpecContext) {
		bin := aegisdBinary(ctx)
		tmp := GinkgoT().TempDir()
		dir := filepath.Join(tmp, "objects")
		legacy, err := fsblob.Open(dir, &fsblob.Options{Create: true})
		Expect(err).NotTo(HaveOccurred())
		for range 3 {
			Expect(legacy.Put(ctx, newID(), randomBytes(domain.KiB))).To(Succeed())
		}
		before := snapshot(dir)

		// Bounded: a server that accepted the store would serve until killed.
		runCtx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		cmd := exec.CommandContext(runCtx, bin, "--listen", "127.0.0.1:0", "--store", "file://"+dir,
			"--ledger", "file://"+filepath.Join(tmp, "ledger"), "--issuer-dir", filepath.Join(tmp, "issuer"), "--token-type", "voprf")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err = cmd.Run()
		var ee *exec.ExitError
		Expect(errors.As(err, &ee)).To(BeTrue(), "aegisd did not fail: %v; %s", err, stderr.String())
		Expect(ee.ExitCode()).To(Equal(1))
		Expect(stdout.String()).To(BeEmpty())
		line := stderr.String()
		Expect(strings.Count(line, "\n")).To(Equal(1), "one line: %q", line)
		Expect(line).To(HavePrefix("aegisd: store file://" + dir + ": "))
		Expect(line).To(ContainSubstring("before write-enablers"))
		Expect(line).To(ContainSubstring("new, empty store"))
		Expect(line).To(ContainSubstring("docs/deploy.md"))
		Expect(line).NotTo(ContainSubstring("listening"))
		Expect(snapshot(dir)).To(Equal(before), "the legacy store was changed")

		// In process: the same refusal, as an error wrapping server.ErrLegacyStore.
		_, err = start(func(o *aegisd.Options) { o.Store = "file://" + dir })
		Expect(err).To(MatchError(server.ErrLegacyStore))
		Expect(snapshot(dir)).To(Equal(before))
	})

	It("refuses a store whose marker names another format", func() {
		dir := GinkgoT().TempDir()
		st, err := fsblob.Open(dir, &fsblob.Options{Create: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Put(context.Background(), server.StoreFormatID, []byte("aegisd store format 3\n"))).To(Succeed())
		_, err = start(func(o *aegisd.Options) { o.Store = "file://" + dir })
		Expect(err).To(MatchError(server.ErrStoreFormat))
	})
})

var _ = Describe("a co-tenant of aegisd (another client with the same attestation secret)", func() {
	It("can neither list, overwrite nor delete the first client's objects: the store stays byte for byte the same", func(ctx SpecContext) {
		dir := GinkgoT().TempDir()
		srv, err := start(func(o *aegisd.Options) { o.Store = "file://" + dir })
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(srv.stop()).To(Succeed()) })

		// The first client: its own enabler key, a few objects of every kind of
		// write, and a header written with compare-and-swap.
		poolA, err := httpblob.NewTokenPool(ctx, srv.URL, []byte(testSecret), &httpblob.PoolOptions{Batch: 64})
		Expect(err).NotTo(HaveOccurred())
		plainA, err := httpblob.Open(srv.URL, &httpblob.Options{Tokens: poolA})
		Expect(err).NotTo(HaveOccurred())
		first := plainA.Guarded(enablerFor(randomBytes(32)))
		want := map[domain.ObjectID][]byte{}
		for _, n := range domain.DefaultBucketSizes {
			id, b := newID(), randomBytes(n)
			Expect(first.Put(ctx, id, b)).To(Succeed())
			want[id] = b
		}
		header := newID()
		v, err := first.CompareAndSwap(ctx, header, "", randomBytes(domain.KiB))
		Expect(err).NotTo(HaveOccurred())
		want[header] = randomBytes(domain.KiB)
		v, err = first.CompareAndSwap(ctx, header, v, want[header])
		Expect(err).NotTo(HaveOccurred())
		gone := newID()
		Expect(first.Put(ctx, gone, randomBytes(domain.KiB))).To(Succeed())
		Expect(first.Delete(ctx, gone)).To(Succeed())
		before := snapshot(dir)

		// The co-tenant: fresh tokens under the same attestation secret, every id
		// on the server (read from its directory), an enabler key of its own.
		poolB, err := httpblob.NewTokenPool(ctx, srv.URL, []byte(testSecret), &httpblob.PoolOptions{Batch: 64})
		Expect(err).NotTo(HaveOccurred())
		plainB, err := httpblob.Open(srv.URL, &httpblob.Options{Tokens: poolB})
		Expect(err).NotTo(HaveOccurred())
		second := plainB.Guarded(enablerFor(randomBytes(32)))
		zero := plainB.Guarded(func(domain.ObjectID) domain.WriteEnabler { return domain.WriteEnabler{} })
		ids := storedIDs(dir)
		Expect(ids).To(HaveLen(len(want) + 1)) // and the format marker

		Expect(second.List(ctx, func(domain.ObjectID) error { return nil })).To(MatchError(errors.ErrUnsupported))
		r := send(ctx, srv, poolB, "GET", server.ObjectsPath, nil, nil)
		Expect(r.Status).To(Equal(404))
		Expect(r.code()).To(Equal(server.CodeRouteNotFound))

		refusals := 0
		for _, id := range ids {
			if id == server.StoreFormatID {
				for _, err := range []error{second.Put(ctx, id, randomBytes(domain.KiB)), second.Delete(ctx, id)} {
					Expect(err).To(MatchError(domain.ErrInvalidInput))
					refusals++
				}
				continue
			}
			// It can read the ciphertext of an id it knows, and its version.
			_, cur, err := second.GetVersioned(ctx, id)
			Expect(err).NotTo(HaveOccurred())
			for _, s := range []domain.BlobStore{second, zero} {
				Expect(s.Put(ctx, id, randomBytes(domain.KiB))).To(MatchError(domain.ErrConflict), "overwrite %s", id)
				_, err = s.CompareAndSwap(ctx, id, cur, randomBytes(domain.KiB))
				Expect(err).To(MatchError(domain.ErrConflict), "swap %s at its current version", id)
				_, err = s.CompareAndSwap(ctx, id, "", randomBytes(domain.KiB))
				Expect(err).To(MatchError(domain.ErrConflict), "create over %s", id)
				Expect(s.Delete(ctx, id)).To(MatchError(domain.ErrNotFound), "delete %s", id)
				refusals += 4
			}
			// Without an enabler at all: refused before anything (400).
			r := send(ctx, srv, poolB, "DELETE", server.ObjectsPath+"/"+id.String(), nil, nil)
			Expect(r.code()).To(Equal(server.CodeWriteEnablerRequired))
			Expect(plainB.Delete(ctx, id)).To(MatchError(domain.ErrInvalidInput))
			refusals += 2
		}
		GinkgoWriter.Printf("co-tenant: %d write attempts on %d ids, all refused\n", refusals, len(ids))
		Expect(snapshot(dir)).To(Equal(before), "the co-tenant changed the server's store")

		// The first client's data reads back intact, and it can still write.
		for id, b := range want {
			Expect(first.Get(ctx, id)).To(Equal(b))
		}
		_, cur, err := first.GetVersioned(ctx, header)
		Expect(err).NotTo(HaveOccurred())
		Expect(cur).To(Equal(v))
		_, err = first.CompareAndSwap(ctx, header, v, randomBytes(domain.KiB))
		Expect(err).NotTo(HaveOccurred())
		for id := range want {
			if id != header {
				Expect(first.Delete(ctx, id)).To(Succeed())
				break
			}
		}
	})
})

// memStoreWithMarker is a memory store that holds only the format marker.
func memStoreWithMarker() domain.BlobStore {
	u, err := aegisd.ProvideURLs(aegisd.Options{Store: "memory://", Ledger: "memory://"})
	Expect(err).NotTo(HaveOccurred())
	st, err := aegisd.ProvideStore(u)
	Expect(err).NotTo(HaveOccurred())
	b, err := st.Get(context.Background(), server.StoreFormatID)
	Expect(err).NotTo(HaveOccurred())
	Expect(string(b)).To(Equal(server.StoreFormat))
	return st
}
