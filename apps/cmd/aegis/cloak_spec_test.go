//go:build linux

// The Cloak's specs read access times from syscall.Stat_t as Linux spells it
// and give a client another host name with unshare(1); the behaviour they check
// is the same on the other systems the CLI builds on.

package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/adapters/httpblob"
	"github.com/ai-pantheon/aegis/anonymize"
	"github.com/ai-pantheon/aegis/domain"
)

// seenRequest is one request as aegisd's handler saw it.
type seenRequest struct {
	at     time.Time // when it reached the handler (its header read)
	done   time.Time // when the handler returned
	method string
	path   string
	host   string
	header http.Header
	status int
}

// challengePath is the path of the token pool's challenge: an unauthenticated
// GET of the zero object id, answered 401 with the issuer's challenge
// (httpblob.NewTokenPool). It is not an object request of the Cloak's and is
// not held; neither are the pool's other requests, to the issuer directory and
// POST /v1/token-requests (the token issuance endpoint), outside /v1/objects.
var challengePath = "/v1/objects/" + domain.ObjectID{}.String()

// challenge reports whether q is the token pool's challenge.
func (q seenRequest) challenge() bool {
	return q.method == http.MethodGet && q.path == challengePath && len(q.header.Values("Authorization")) == 0
}

// object reports whether q is an object request: one the Cloak's layer sends
// (GET, PUT, DELETE /v1/objects/ID), the challenge left out.
func (q seenRequest) object() bool {
	return strings.HasPrefix(q.path, "/v1/objects/") && !q.challenge()
}

func (q seenRequest) String() string {
	return fmt.Sprintf("%s %s %s (%d) at +%v in its window", q.at.Format("15:04:05.000"), q.method, q.path, q.status, windowOffset(q.at, cloakWindow))
}

// recorder keeps what aegisd sees.
type recorder struct {
	srv  *ownServer
	mu   sync.Mutex
	reqs []seenRequest
}

func record(srv *ownServer) *recorder {
	rec := &recorder{srv: srv}
	srv.setWatch(func(r *http.Request, at time.Time, status int) {
		q := seenRequest{at: at, done: time.Now(), method: r.Method, path: r.URL.Path, host: r.Host, header: r.Header.Clone(), status: status}
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, q)
		rec.mu.Unlock()
	})
	DeferCleanup(func() { srv.setWatch(nil) })
	return rec
}

// take returns what aegisd saw since the last take, in order of arrival, once
// every request answered has been seen.
func (rec *recorder) take() []seenRequest {
	GinkgoHelper()
	rec.srv.settle()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := rec.reqs
	rec.reqs = nil
	slices.SortStableFunc(out, func(a, b seenRequest) int { return a.at.Compare(b.at) })
	return out
}

func objectRequests(reqs []seenRequest) []seenRequest {
	return slices.DeleteFunc(slices.Clone(reqs), func(q seenRequest) bool { return !q.object() })
}

// heldLate returns how long after its release q reached aegisd: after the
// start of its window of w, or, in a window where the layer first had to fetch
// tokens (the pool's POST /v1/token-requests, sent when the window's tokens are
// asked for, so right after the boundary), after aegisd answered that fetch.
// Requests that were not held leave when the command asks, wherever that falls
// in the window, and a fetch they make then does not count as sent at the
// boundary.
func heldLate(q seenRequest, reqs []seenRequest, w time.Duration) time.Duration {
	ref := q.at.Add(-windowOffset(q.at, w))
	for _, t := range reqs {
		if t.method == http.MethodPost && t.path == "/v1/token-requests" &&
			!t.at.Before(ref) && t.at.Before(q.at) && t.at.Sub(ref) < holdSlack && t.done.After(ref) && t.done.Before(q.at) {
			ref = t.done
		}
	}
	return q.at.Sub(ref)
}

func challenges(reqs []seenRequest) []seenRequest {
	return slices.DeleteFunc(slices.Clone(reqs), func(q seenRequest) bool { return !q.challenge() })
}

// cloakRun is one command recorded at aegisd.
type cloakRun struct {
	out     string
	reqs    []seenRequest    // every request aegisd saw while it ran (its /metrics scrapes left out)
	metrics map[string]int64 // the change of aegisd's counters while it ran
}

// recordRun runs the command and records what aegisd sees of it.
func recordRun(rec *recorder, r runner, args ...string) cloakRun {
	GinkgoHelper()
	rec.take()
	before := scrapeMetrics(rec.srv.URL)
	out := r.ok(args...)
	reqs := slices.DeleteFunc(rec.take(), func(q seenRequest) bool { return q.path == "/metrics" })
	after := scrapeMetrics(rec.srv.URL)
	for k, v := range before {
		after[k] -= v
	}
	return cloakRun{out: out, reqs: reqs, metrics: after}
}

// scrapeMetrics reads aegisd's counters: series (name and labels) to value.
func scrapeMetrics(url string) map[string]int64 {
	GinkgoHelper()
	resp, err := http.Get(url + "/metrics")
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	Expect(resp.StatusCode).To(Equal(http.StatusOK))
	out := map[string]int64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "aegisd_") { // comments, and the go_ and process_ collectors
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		Expect(i).To(BeNumerically(">", 0), line)
		n, err := strconv.ParseFloat(line[i+1:], 64) // large counts are written as 1.048576e+06
		Expect(err).NotTo(HaveOccurred(), line)
		out[line[:i]] = int64(n)
	}
	Expect(sc.Err()).NotTo(HaveOccurred())
	return out
}

// cloakWindow is the window of the held commands: short, to keep the specs
// short. holdSlack is how long after its release a held request may reach
// aegisd: the layer's release (shuffle, eight requests in flight at once) and
// the loopback.
const (
	cloakWindow = 2 * time.Second
	holdSlack   = 500 * time.Millisecond
)

// windowOffset is how far into its window (a multiple of w of Unix time) t is.
func windowOffset(t time.Time, w time.Duration) time.Duration {
	return time.Duration(t.UnixNano() % int64(w))
}

// startMidWindow waits for the middle of a window of w: a command started
// then sends what it does not hold right away, well away from any boundary.
func startMidWindow(w time.Duration) {
	now := time.Now()
	wait := w/2 - windowOffset(now, w)
	if wait < 0 {
		wait += w
	}
	time.Sleep(wait)
}

// perWindow counts reqs by window of cloakWindow, in order; windows without
// requests are left out.
func perWindow(reqs []seenRequest) []int {
	var out []int
	last := int64(-1)
	for _, q := range reqs {
		i := q.at.UnixNano() / int64(cloakWindow)
		if i != last {
			out = append(out, 0)
			last = i
		}
		out[len(out)-1]++
	}
	return out
}

func sum(ns []int) int {
	t := 0
	for _, n := range ns {
		t += n
	}
	return t
}

func storeReport(out string) anonymize.Report {
	GinkgoHelper()
	var rep anonymize.Report
	Expect(json.Unmarshal([]byte(out), &rep)).To(Succeed(), out)
	return rep
}

// perRequestHeaders differ between requests by design: the token, the body
// length, the version a compare-and-swap expects, the object's write-enabler.
var perRequestHeaders = map[string]bool{
	"Authorization":       true,
	"Content-Length":      true,
	"If-Match":            true,
	"If-None-Match":       true,
	"Aegis-Write-Enabler": true,
}

// shape is what a request shows besides what is per request: method, route,
// host, its header names, and the values of the headers that are not per
// request.
func shape(q seenRequest) string {
	route := q.path
	if q.object() {
		route = "/v1/objects/:id"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s Host=%s", q.method, route, q.host)
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range q.header {
			if !yield(k) {
				return
			}
		}
	}) {
		v := "(per request)"
		if !perRequestHeaders[k] {
			v = strconv.Quote(strings.Join(q.header.Values(k), ", "))
		}
		fmt.Fprintf(&b, " %s=%s", k, v)
	}
	return b.String()
}

func shapes(reqs []seenRequest) []string {
	var out []string
	for _, q := range reqs {
		out = append(out, shape(q))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// runVia runs the binary through prefix (a command that execs its arguments),
// as runner.run does.
func (r runner) runVia(prefix []string, args ...string) result {
	GinkgoHelper()
	if len(prefix) == 0 {
		return r.run(args...)
	}
	argv := append(append(slices.Clone(prefix[1:]), binary), args...)
	cmd := exec.Command(prefix[0], argv...)
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

// otherHostName returns a prefix that runs a command under another host name
// (a UTS namespace of its own, as root with unshare(1)), or nil and why not.
func otherHostName(name string) ([]string, string) {
	if os.Geteuid() != 0 {
		return nil, "not root"
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		return nil, "no unshare(1)"
	}
	prefix := []string{"unshare", "--uts", "sh", "-c", "hostname " + name + ` && exec "$@"`, "sh"}
	out, err := exec.Command(prefix[0], append(prefix[1:], "hostname")...).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != name {
		return nil, fmt.Sprintf("unshare --uts failed: %v: %s", err, out)
	}
	return prefix, ""
}

var _ = Describe("the Cloak end to end (cloak): what aegisd and a local vault directory see", func() {
	Describe("a store held to 2 s windows, without and with --cover 4, recorded at aegisd", Ordered, ContinueOnFailure, func() {
		var (
			srv                               *ownServer
			coverUser                         runner
			plainInit, plainStore, coverStore cloakRun
			plainRep, coverRep                anonymize.Report
			plainObjects, coverObjects        int
			serverAfter                       []string // the objects on aegisd after both stores
		)

		BeforeAll(func() {
			srv = startOwnServer()
			rec := record(srv)
			dir := GinkgoT().TempDir()
			writeFile(dir, "data.json", sample)
			held := []string{"--hold", "--window", cloakWindow.String()}

			// A vault created and written with every request held; each
			// command starts in the middle of a window.
			plain := remoteUser(dir, srv.URL, randomName("plain"), "plain passphrase")
			startMidWindow(cloakWindow)
			plainInit = recordRun(rec, plain, append(held, "init")...)
			startMidWindow(cloakWindow)
			plainStore = recordRun(rec, plain, append(held, "--json", "store", "data.json")...)
			plainRep = storeReport(plainStore.out)
			plainObjects = len(serverObjectIDs(srv.Store))

			// The same store, with cover, on a vault created the same way
			// (without holding: only the store is compared).
			coverUser = remoteUser(dir, srv.URL, randomName("cover"), "cover vault: quiet orbit fennel")
			coverUser.ok("init")
			startMidWindow(cloakWindow)
			coverStore = recordRun(rec, coverUser, append(held, "--cover", "4", "--json", "store", "data.json")...)
			coverRep = storeReport(coverStore.out)
			serverAfter = serverObjectIDs(srv.Store)
			coverObjects = len(serverAfter) - plainObjects
		})

		// The first window of each command waits for the token pool's first
		// batch: the layer asks for the window's tokens at the boundary, and the
		// pool fetches them then (200 to 400 ms here), so its requests are
		// timed from aegisd's answer to that fetch.
		It("holds every object request to a window boundary: aegisd sees each within 500 ms after a multiple of 2 s of Unix time (or after the window's token fetch)", func() {
			for _, c := range []struct {
				what string
				run  cloakRun
			}{{"init", plainInit}, {"store", plainStore}, {"store --cover 4", coverStore}} {
				objs := objectRequests(c.run.reqs)
				Expect(objs).NotTo(BeEmpty(), c.what)
				latest, late := time.Duration(0), time.Duration(0)
				for _, q := range objs {
					d := heldLate(q, c.run.reqs, cloakWindow)
					Expect(d).To(BeNumerically("<", holdSlack), "%s: %s: %v after its release", c.what, q, d)
					late = max(late, d)
					latest = max(latest, windowOffset(q.at, cloakWindow))
				}
				GinkgoWriter.Printf("%s: %d object requests, at most %v after their release, %v after their window's start\n", c.what, len(objs), late, latest)
				// Every step of the command waited for a boundary of its own.
				Expect(len(perWindow(objs))).To(BeNumerically(">=", 3), c.what)
				// The command started mid-window: what it does not hold (the
				// token pool's challenge) shows it.
				ch := challenges(c.run.reqs)
				Expect(ch).To(HaveLen(1), c.what)
				Expect(windowOffset(ch[0].at, cloakWindow)).To(BeNumerically(">=", holdSlack), "%s: %s", c.what, ch[0])
			}
		})

		It("sends at least 4 more object requests in every window after the first, all answered 2xx, and leaves no cover object on the server", func() {
			plainW := perWindow(objectRequests(plainStore.reqs))
			coverW := perWindow(objectRequests(coverStore.reqs))
			GinkgoWriter.Printf("object requests per window: without cover %v, with cover %v\n", plainW, coverW)
			// Both stores take the same steps, a window each.
			Expect(coverW).To(HaveLen(len(plainW)))
			// The first window of the process (reading the vault's header)
			// carries no cover: the layer has seen no object it could read, and
			// the Vault is not writing, so it has no id for a cover write.
			Expect(coverW[0]).To(Equal(plainW[0]))
			for k := 1; k < len(coverW); k++ {
				Expect(coverW[k]).To(BeNumerically(">=", plainW[k]+4), "window %d: %v against %v", k, coverW, plainW)
			}
			Expect(sum(coverW)).To(BeNumerically(">=", sum(plainW)+4*(len(coverW)-1)))
			Expect(coverRep.Cover).To(Equal(4*coverRep.Windows), "every window of the store carries 4 cover requests")

			// No tell-tale answer: cover reads name objects that exist, cover
			// writes are accepted.
			for _, q := range append(objectRequests(plainStore.reqs), objectRequests(coverStore.reqs)...) {
				Expect(q.status/100).To(Equal(2), q.String())
			}

			// The cover writes were removed: the vault holds as many objects
			// as without cover, every one of them referenced. A cover write is
			// an object the store created that is not on the server after it;
			// the Vault deleted each in a request of its own (a real request:
			// the store's report counts it, cover aside).
			kept := map[string]bool{}
			for _, id := range serverAfter {
				kept[id] = true
			}
			created, deleted := map[string]bool{}, map[string]bool{}
			for _, q := range objectRequests(coverStore.reqs) {
				id := strings.TrimPrefix(q.path, "/v1/objects/")
				switch {
				case q.method == http.MethodPut && q.header.Get("If-Match") == "" && !kept[id]:
					created[id] = true
				case q.method == http.MethodDelete:
					deleted[id] = true
				}
			}
			Expect(created).NotTo(BeEmpty(), "cover writes while the Vault wrote")
			for id := range created {
				Expect(deleted).To(HaveKey(id), "cover write %s", id)
			}
			Expect(coverRep.Requests).To(Equal(plainRep.Requests + len(created)))
			Expect(coverObjects).To(Equal(plainObjects))
			Expect(statsObjects(coverUser)).To(Equal(coverObjects))
		})

		It("authorizes each object request with one token that aegisd redeemed once, and reports requests, cover and tokens as aegisd saw them", func() {
			spent := map[string]bool{}
			for _, c := range []struct {
				what string
				run  cloakRun
				rep  *anonymize.Report
			}{{"init", plainInit, nil}, {"store", plainStore, &plainRep}, {"store --cover 4", coverStore, &coverRep}} {
				objs := objectRequests(c.run.reqs)
				for _, q := range objs {
					auth := q.header.Values("Authorization")
					Expect(auth).To(HaveLen(1), "%s: %s", c.what, q)
					Expect(auth[0]).To(HavePrefix("PrivateToken token="), "%s: %s", c.what, q)
					Expect(spent).NotTo(HaveKey(auth[0]), "%s: %s carries a token sent before", c.what, q)
					spent[auth[0]] = true
					Expect(q.status).NotTo(Equal(http.StatusUnauthorized), "%s: %s", c.what, q)
				}
				// aegisd redeemed one token per object request, no more: no
				// request took a second token (there were no resends).
				Expect(c.run.metrics).To(HaveKeyWithValue("aegisd_tokens_redeemed_total", int64(len(objs))), c.what)
				// The pool's challenge requests are counted as challenges, not
				// as refused tokens; no token was refused.
				Expect(c.run.metrics).To(HaveKeyWithValue("aegisd_token_challenges_total", int64(len(challenges(c.run.reqs)))), c.what)
				for series, n := range c.run.metrics {
					if strings.HasPrefix(series, "aegisd_tokens_rejected_total") {
						Expect(n).To(BeZero(), "%s: %s", c.what, series)
					}
				}
				if c.rep == nil {
					continue
				}
				// The report counts the store's own windows, the last of the
				// command (opening the vault came before).
				rep := *c.rep
				Expect(rep.TokensUsed).To(Equal(rep.Requests+rep.Cover), c.what)
				wins := perWindow(objs)
				Expect(rep.Windows).To(BeNumerically("<", len(wins)), c.what)
				Expect(rep.Requests+rep.Cover).To(Equal(sum(wins[len(wins)-rep.Windows:])), "%s: per window %v, report %+v", c.what, wins, rep)
			}
		})
	})

	It("dates every object file and directory of a local vault to the start of its 10 s window, without --hold", func() {
		dir := GinkgoT().TempDir()
		writeFile(dir, "pass", "local cloak passphrase\n")
		writeFile(dir, "data.json", sample)
		user := runner{Dir: dir, Env: []string{"AEGIS_PASSPHRASE_FILE=" + filepath.Join(dir, "pass")}}
		w := []string{"--window", "10s"}
		begin := time.Now()
		user.ok(append(w, "init")...)
		user.ok(append(w, "store", "data.json")...)
		user.input([]byte(strings.Repeat("dated ", 50_000))).ok(append(w, "put", "notes")...)
		end := time.Now()

		first := begin.Add(-time.Duration(begin.UnixNano() % int64(10*time.Second)))
		checked, objects := 0, 0
		root := filepath.Join(dir, "aegis-vault", "objects")
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			// WalkDir reads a directory after this call: its times are taken
			// before the read, which would set its access time.
			info, err := os.Lstat(p)
			if err != nil {
				return err
			}
			st := info.Sys().(*syscall.Stat_t)
			for what, ts := range map[string]syscall.Timespec{"mtime": st.Mtim, "atime": st.Atim} {
				t := time.Unix(ts.Sec, ts.Nsec)
				Expect(ts.Nsec).To(BeZero(), "%s of %s: %v", what, p, t)
				Expect(ts.Sec%10).To(BeZero(), "%s of %s: %v", what, p, t)
				Expect(t).To(BeTemporally(">=", first), "%s of %s", what, p)
				Expect(t).To(BeTemporally("<=", end), "%s of %s", what, p)
			}
			checked++
			if info.Mode().IsRegular() {
				objects++
			}
			return nil
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(objects).To(BeNumerically(">=", 5)) // header, manifest, three categories and notes
		GinkgoWriter.Printf("checked %d files and directories under %s (%d files)\n", checked, root, objects)
	})

	It("sends the same header names, and the same values of every header that is not per request, from clients of different locales, time zones and host names", func() {
		srv := startOwnServer()
		rec := record(srv)
		type client struct {
			name   string
			env    []string
			prefix []string
		}
		other, why := otherHostName("aegis-client-b")
		if other == nil {
			// Only HOSTNAME differs then; the host name the kernel reports is
			// the same for both.
			AddReportEntry("host name", "both clients ran under this machine's host name ("+why+"); only HOSTNAME differed")
		}
		clients := []client{
			{"a", []string{"LANG=C", "LC_ALL=C", "TZ=UTC", "HOSTNAME=aegis-client-a"}, nil},
			{"b", []string{"LANG=de_DE.UTF-8", "LC_ALL=de_DE.UTF-8", "TZ=Pacific/Chatham", "HOSTNAME=aegis-client-b"}, other},
		}
		seen := make([][]seenRequest, len(clients))
		for i, c := range clients {
			dir := GinkgoT().TempDir()
			writeFile(dir, "data.json", sample)
			r := remoteUser(dir, srv.URL, randomName("client-"+c.name), "passphrase of "+c.name).with(c.env...)
			cfg := []string{"--config-dir", filepath.Join(dir, "config-"+c.name)}
			rec.take()
			for _, args := range [][]string{{"init"}, {"store", "data.json"}, {"get", "journal"}} {
				res := r.runVia(c.prefix, append(cfg, args...)...)
				Expect(res.Code).To(Equal(0), "client %s: aegis %v: %s", c.name, args, res.Stderr)
				if args[0] == "get" {
					Expect(res.Stdout).To(MatchJSON(`{"2024-01-01": "dear diary", "mood": 7}`))
				}
			}
			seen[i] = rec.take()
			for _, q := range objectRequests(seen[i]) {
				for k := range q.header {
					Expect(httpblob.ProtocolHeaders).To(ContainElement(k), "client %s: %s", c.name, q)
				}
			}
		}
		a, b := objectRequests(seen[0]), objectRequests(seen[1])
		Expect(a).NotTo(BeEmpty())
		GinkgoWriter.Printf("client a's object requests (%d) show:\n  %s\n", len(a), strings.Join(shapes(a), "\n  "))
		Expect(shapes(b)).To(Equal(shapes(a)), "object requests")
		// The token pool's requests (not object requests, not stripped) show
		// nothing of the client either.
		rest := func(reqs []seenRequest) []seenRequest {
			return slices.DeleteFunc(slices.Clone(reqs), seenRequest.object)
		}
		Expect(shapes(rest(seen[1]))).To(Equal(shapes(rest(seen[0]))), "the token pool's requests")
	})
})
