package main_test

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/domain/vault"
)

// Fault specs behind a proxy: a reverse proxy between the CLI and a real aegisd
// forwards a request, waits for aegisd's answer and then answers the client
// with a page of its own (503, 502, 504) or closes the connection. The client
// cannot tell whether the write took effect; the vault must settle it (by
// reading the header back) and never delete what the header references.
//
// Only object requests (GET, PUT, DELETE /v1/objects/ID) are counted and
// faulted: the token pool's requests (challenge, directory, token requests)
// prepare a command and write nothing, and a failure there ends the command
// before its first object request.
//
// AEGIS_PROXY_FAULTS=all faults every k with every kind of fault (the long
// form); by default every k gets a 503 and two seeded k per command each of the
// other kinds.

// sameContent reports whether a and b are the same bytes or the same JSON value
// (aegis store keeps each category's JSON value as it was written).
func sameContent(a, b []byte) bool { return bytes.Equal(a, b) || sameJSON(a, b) }

var _ = Describe("aegis behind a proxy that loses aegisd's answers", Label("faults"), func() {
	It("settles a put and a store whose k-th object request lost its answer, for every k: the vault opens, every acknowledged write is there, the interrupted one is old or new, whole", func(ctx SpecContext) {
		start := time.Now()
		long := os.Getenv("AEGIS_PROXY_FAULTS") == "all"
		rng := seeded(11)
		GinkgoWriter.Printf("proxy seed %d\n", GinkgoRandomSeed())

		srv := startOwnServer()
		proxy := newFaultProxy(srv.URL)
		dir := GinkgoT().TempDir()
		name := randomName("proxy")
		const passphrase = "proxy fault passphrase"
		user := remoteUser(dir, proxy.URL, name, passphrase)
		user.ok("init")
		writeFile(dir, "data.json", sample)
		user.ok("store", "data.json")
		user.input(bytes.Repeat([]byte("notes "), 1000)).ok("put", "notes")
		key := vaultKey(user)
		proxy.headerID = vault.LocatedHeaderID(key, name).String()

		// A handle straight at aegisd: what the vault holds after every command.
		v := openDirect(ctx, srv.URL, name, key, passphrase)
		model, err := v.LoadAll(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(model).To(HaveLen(4))
		garbage := func() int {
			GinkgoHelper()
			st, err := v.Stats(ctx)
			Expect(err).NotTo(HaveOccurred())
			return len(serverObjectIDs(srv.Store)) - st.Objects
		}
		Expect(garbage()).To(BeZero())

		// A write: the command and what it changes.
		type write struct {
			args  []string
			stdin []byte
			next  map[string][]byte
		}
		seq := 0
		put := func() write {
			seq++
			c := []byte(fmt.Sprintf("journal, version %d", seq))
			return write{args: []string{"put", "journal"}, stdin: c, next: map[string][]byte{"journal": c}}
		}
		store := func() write {
			seq++
			next := map[string][]byte{
				"bookmarks": []byte(fmt.Sprintf(`["https://example.org/%d"]`, seq)),
				"settings":  []byte(fmt.Sprintf(`{"theme":"dark","version":%d}`, seq)),
				"notes":     []byte(fmt.Sprintf(`"notes, version %d"`, seq)),
			}
			var sb strings.Builder
			sb.WriteString("{")
			for i, k := range slices.Sorted(maps.Keys(next)) {
				if i > 0 {
					sb.WriteString(",")
				}
				fmt.Fprintf(&sb, "%q:%s", k, next[k])
			}
			sb.WriteString("}")
			file := writeFile(dir, fmt.Sprintf("store-%d.json", seq), sb.String())
			return write{args: []string{"store", filepath.Base(file)}, next: next}
		}

		outcomes := map[string]int{}
		var took []time.Duration
		var failures []string
		// run runs w with fault f at object request k (0: none) and checks the
		// vault straight at aegisd. It returns the number of object requests.
		run := func(w write, f fault, k int) int {
			GinkgoHelper()
			if k == 0 {
				proxy.arm(nil)
			} else {
				proxy.arm(faultAt(k, f))
			}
			t0 := time.Now()
			res := user.input(w.stdin).run(w.args...)
			took = append(took, time.Since(t0))
			n, trace := proxy.requests()
			label := fmt.Sprintf("aegis %s with %s at object request %d (of %d: %s); exit %d: %s",
				strings.Join(w.args, " "), f, k, n, strings.Join(trace, ", "), res.Code, strings.TrimSpace(res.Stderr))

			all, err := v.LoadAll(ctx)
			Expect(err).NotTo(HaveOccurred(), "the vault does not open after %s", label)
			applied, kept := 0, 0
			for cat, nv := range w.next {
				got, ok := all[cat]
				old, had := model[cat]
				switch {
				case ok && sameContent(got, nv):
					applied++
				case ok && had && sameContent(got, old), !ok && !had:
					kept++
				default:
					Fail(fmt.Sprintf("%s: category %s holds neither its old nor its new content: %q", label, cat, got))
				}
			}
			Expect(applied == len(w.next) || kept == len(w.next)).To(BeTrue(), "%s: half a write (%d of %d categories new)", label, applied, len(w.next))
			for cat, old := range model {
				if _, changed := w.next[cat]; !changed {
					Expect(all).To(HaveKey(cat), "%s: category %s vanished", label, cat)
					Expect(sameContent(all[cat], old)).To(BeTrue(), "%s: category %s changed", label, cat)
				}
			}
			if res.Code == 0 {
				Expect(applied).To(Equal(len(w.next)), "%s: acknowledged, yet the old content is there", label)
				// Nothing unreferenced is left: this write's objects, those of the
				// write it replaced and those of an earlier write that failed.
				Expect(garbage()).To(BeZero(), "%s: unreferenced objects on the server", label)
			} else {
				Expect(res.Code).To(Equal(1), label)
				Expect(lastLine(res.Stderr)).To(HavePrefix("aegis: "), label)
				failures = append(failures, label)
			}
			if applied == len(w.next) {
				maps.Copy(model, w.next)
			}
			class := "exit 0"
			switch {
			case res.Code != 0 && applied > 0:
				class = fmt.Sprintf("exit %d, took effect", res.Code)
			case res.Code != 0:
				class = fmt.Sprintf("exit %d, old content kept", res.Code)
			}
			outcomes[fmt.Sprintf("%s %s: %s", w.args[0], f, class)]++
			return n
		}

		// The requests of a clean put and a clean store.
		nPut := run(put(), pass, 0)
		_, putTrace := proxy.requests()
		nStore := run(store(), pass, 0)
		_, storeTrace := proxy.requests()
		GinkgoWriter.Printf("a clean put makes %d object requests (%s), a clean store %d (%s)\n", nPut, strings.Join(putTrace, ", "), nStore, strings.Join(storeTrace, ", "))
		Expect(nPut).To(BeNumerically(">=", 6))
		Expect(nStore).To(BeNumerically(">=", 8))

		// Every k with a 503; the other kinds at every k in the long form, else
		// at a seeded header write of one command and a seeded request of the
		// other.
		headerWrites := func(trace []string) []int {
			var ks []int
			for i, line := range trace {
				if strings.Contains(line, "If-Match header") {
					ks = append(ks, i+1)
				}
			}
			return ks
		}
		type command struct {
			n       int
			headers []int
			write   func() write
		}
		commands := []command{{nPut, headerWrites(putTrace), put}, {nStore, headerWrites(storeTrace), store}}
		for _, f := range []fault{after503, after502, after504, afterDrop} {
			if f == after503 || long {
				for _, c := range commands {
					for k := 1; k <= c.n; k++ {
						run(c.write(), f, k)
					}
				}
				continue
			}
			first := rng.IntN(2)
			c := commands[first]
			run(c.write(), f, c.headers[rng.IntN(len(c.headers))])
			c = commands[1-first]
			run(c.write(), f, 1+rng.IntN(c.n))
		}
		// And a clean write at the end.
		run(put(), pass, 0)
		Expect(user.at(srv.URL).ok("ls")).To(Equal(strings.Join(slices.Sorted(maps.Keys(model)), "\n") + "\n"))

		report := fmt.Sprintf("proxy faults (seed %d, %s form): a clean put makes %d object requests, a clean store %d; %d commands (median %v), %v in all\n%s",
			GinkgoRandomSeed(), map[bool]string{true: "long", false: "short"}[long], nPut, nStore, len(took), median(took).Round(time.Millisecond), time.Since(start).Round(time.Second), tally(outcomes))
		for _, f := range failures {
			report += "  failed: " + f + "\n"
		}
		AddReportEntry("proxy faults", report)
		GinkgoWriter.Print(report)
	})

	It("keeps every acknowledged write of two clients whose proxies lose answers at random, and a clean write then leaves exactly the referenced objects", func(ctx SpecContext) {
		start := time.Now()
		rounds := envInt("AEGIS_PROXY_ROUNDS", 10)
		GinkgoWriter.Printf("proxy seed %d, 2 writers × %d rounds\n", GinkgoRandomSeed(), rounds)

		srv := startOwnServer()
		dir := GinkgoT().TempDir()
		name := randomName("two-writers")
		const passphrase = "two writers passphrase"
		direct := remoteUser(dir, srv.URL, name, passphrase)
		direct.ok("init")
		key := vaultKey(direct)

		// Two processes of one machine (one configuration directory, so one host
		// id), each through a proxy of its own that turns about one object
		// request in eight into a lost answer (mostly after forwarding it; a
		// deletion always after).
		type attempt struct {
			writer, round int
			content       []byte
			acked         bool
		}
		var (
			mu       sync.Mutex
			attempts = map[string][]attempt{} // per category, in each writer's order
			outcomes = map[string]int{}
			faults   = map[string]int{}
		)
		writers := []string{"a", "b"}
		var (
			wg      sync.WaitGroup
			proxies []*faultProxy
		)
		for wi, w := range writers {
			proxy := newFaultProxy(srv.URL)
			proxies = append(proxies, proxy)
			proxy.headerID = vault.LocatedHeaderID(key, name).String()
			rng := seeded(uint64(21 + wi))
			proxy.arm(func(_ int, r *http.Request) fault {
				if rng.IntN(8) != 0 {
					return pass
				}
				f := []fault{after503, after503, afterDrop, afterDrop, after502, before503}[rng.IntN(6)]
				if r.Method == http.MethodDelete {
					// A deletion applied, its answer lost. One that is not applied
					// can leave an object nothing lists any more: a known limit,
					// see the collection spec in garbage_spec_test.go.
					f = []fault{after503, afterDrop, after502}[rng.IntN(3)]
				}
				mu.Lock()
				faults[f.String()]++
				mu.Unlock()
				return f
			})
			user := direct.at(proxy.URL)
			wdir := filepath.Join(dir, "writer-"+w)
			Expect(os.Mkdir(wdir, 0o700)).To(Succeed())
			wg.Go(func() {
				defer GinkgoRecover()
				for r := range rounds {
					var (
						res  result
						sent map[string][]byte
					)
					switch r % 3 {
					case 0, 1:
						cat := w + "-own"
						if r%3 == 1 {
							cat = "shared"
						}
						c := []byte(fmt.Sprintf("%s round %d ", w, r))
						if r%4 == 3 {
							c = append(c, bytes.Repeat([]byte{byte(r)}, 1<<20+1<<18)...) // two chunks
						}
						sent = map[string][]byte{cat: c}
						res = user.input(c).run("put", cat)
					default:
						sent = map[string][]byte{
							w + "-batch":   []byte(fmt.Sprintf(`{"writer":%q,"round":%d}`, w, r)),
							"shared-batch": []byte(fmt.Sprintf(`{"writer":%q,"round":%d,"shared":true}`, w, r)),
						}
						file := filepath.Join(wdir, fmt.Sprintf("batch-%d.json", r))
						Expect(os.WriteFile(file, []byte(fmt.Sprintf(`{%q:%s,"shared-batch":%s}`, w+"-batch", sent[w+"-batch"], sent["shared-batch"])), 0o600)).To(Succeed())
						res = user.run("store", file)
					}
					class := "exit 0"
					if res.Code != 0 {
						Expect(res.Code).To(Equal(1), "writer %s round %d: %s", w, r, res.Stderr)
						Expect(lastLine(res.Stderr)).To(HavePrefix("aegis: "))
						msg := lastLine(res.Stderr)
						switch {
						case strings.Contains(msg, "did not answer whether the write took effect"):
							class = "exit 1: outcome unknown"
						case strings.Contains(msg, "changed by another writer"):
							class = "exit 1: conflict"
						default:
							class = "exit 1: " + msg
						}
						GinkgoWriter.Printf("writer %s round %d: %s\n", w, r, msg)
					}
					mu.Lock()
					outcomes[class]++
					for cat, c := range sent {
						attempts[cat] = append(attempts[cat], attempt{writer: wi, round: r, content: c, acked: res.Code == 0})
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()

		// Straight at aegisd: every category holds one attempted content whole;
		// one acknowledged at least once exists; one only this writer wrote holds
		// its last acknowledged content or a later attempt of it.
		v := openDirect(ctx, srv.URL, name, key, passphrase)
		all, err := v.LoadAll(ctx)
		Expect(err).NotTo(HaveOccurred())
		for cat, as := range attempts {
			got, ok := all[cat]
			acked := slices.ContainsFunc(as, func(a attempt) bool { return a.acked })
			if !ok {
				Expect(acked).To(BeFalse(), "category %s was acknowledged and is missing", cat)
				continue
			}
			idx := slices.IndexFunc(as, func(a attempt) bool { return sameContent(got, a.content) })
			Expect(idx).To(BeNumerically(">=", 0), "category %s holds %d bytes that no writer sent", cat, len(got))
			if !strings.HasPrefix(cat, "shared") {
				last := -1
				for i, a := range as {
					if a.acked {
						last = i
					}
				}
				Expect(idx).To(BeNumerically(">=", last), "category %s holds round %d, older than the acknowledged round %d", cat, as[idx].round, as[max(last, 0)].round)
			}
		}
		for cat := range all {
			Expect(attempts).To(HaveKey(cat))
		}

		// One more write, without faults: the server then holds exactly the
		// objects the vault references.
		direct.input([]byte("after the faults")).ok("put", "final")
		if n, want := len(serverObjectIDs(srv.Store)), statsObjects(direct); n != want {
			// Which objects, and what the writers did with them.
			var b strings.Builder
			for _, id := range unreferenced(ctx, srv, name, key, passphrase) {
				fmt.Fprintf(&b, "object %s:\n", id[:8])
				for wi, p := range proxies {
					for _, line := range p.about(id[:8]) {
						fmt.Fprintf(&b, "  writer %s: %s\n", writers[wi], line)
					}
				}
			}
			Fail(fmt.Sprintf("%d objects on the server after a clean write, the vault references %d; unreferenced:\n%s", n, want, b.String()))
		}

		report := fmt.Sprintf("two writers behind faulty proxies (seed %d): %d rounds each, %v\n  faults injected:\n%s  outcomes:\n%s",
			GinkgoRandomSeed(), rounds, time.Since(start).Round(time.Second), tally(faults), tally(outcomes))
		AddReportEntry("two writers, faulty proxies", report)
		GinkgoWriter.Print(report)
	})
})
