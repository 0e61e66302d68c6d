package main_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// writeConcurrently runs writers processes at once, each putting perWriter
// categories one after the other, and returns the failures. Category w-i holds
// the JSON {"w":w,"i":i,"pad":"…"} with pad bytes of padding: a larger
// payload takes longer to upload, which widens the window in which another
// writer commits first.
func writeConcurrently(user runner, prefix string, writers, perWriter, pad int) []string {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed []string
	)
	for w := range writers {
		wg.Go(func() {
			defer GinkgoRecover()
			for i := range perWriter {
				name := fmt.Sprintf("%s%d-cat%02d", prefix, w, i)
				res := user.input([]byte(fmt.Sprintf(`{"w":%d,"i":%d,"pad":%q}`, w, i, strings.Repeat("x", pad)))).run("put", name)
				if res.Code != 0 {
					mu.Lock()
					failed = append(failed, fmt.Sprintf("%s: exit %d: %s", name, res.Code, res.Stderr))
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return failed
}

// payloadJSON is what writeConcurrently stores.
type payloadJSON struct {
	W   int    `json:"w"`
	I   int    `json:"i"`
	Pad string `json:"pad"`
}

// expectAll checks that the vault holds exactly the categories of
// writeConcurrently, each with its own content, and returns the stats.
func expectAll(user runner, prefix string, writers, perWriter, pad int) map[string]any {
	GinkgoHelper()
	names := strings.Fields(user.ok("ls"))
	Expect(names).To(HaveLen(writers * perWriter))
	var all map[string]payloadJSON
	Expect(json.Unmarshal([]byte(user.ok("load")), &all)).To(Succeed())
	Expect(all).To(HaveLen(writers * perWriter))
	for w := range writers {
		for i := range perWriter {
			name := fmt.Sprintf("%s%d-cat%02d", prefix, w, i)
			Expect(all).To(HaveKeyWithValue(name, payloadJSON{W: w, I: i, Pad: strings.Repeat("x", pad)}), "lost or mixed update of %s", name)
		}
	}
	var st map[string]any
	Expect(json.Unmarshal([]byte(user.ok("--json", "stats")), &st)).To(Succeed())
	Expect(st).To(HaveKeyWithValue("categories", BeNumerically("==", writers*perWriter)))
	return st
}

var _ = Describe("several aegis processes on one vault", func() {
	It("keeps every category of 4 local writers (4 × 15) while readers list and load", func() {
		dir := GinkgoT().TempDir()
		writeFile(dir, "pass", "concurrent passphrase\n")
		user := runner{Dir: dir, Env: []string{"AEGIS_PASSPHRASE_FILE=" + filepath.Join(dir, "pass")}}
		user.ok("init")

		// Two readers run until the writers are done. Every read exits 0 and sees
		// whole categories: a manifest is never read half-written.
		stop := make(chan struct{})
		var (
			readers sync.WaitGroup
			reads   atomic.Int64
			bad     = make(chan string, 100)
		)
		for range 2 {
			readers.Go(func() {
				defer GinkgoRecover()
				for {
					select {
					case <-stop:
						return
					default:
					}
					res := user.run("load")
					if res.Code != 0 {
						bad <- fmt.Sprintf("load exit %d: %s", res.Code, res.Stderr)
						continue
					}
					var seen map[string]payloadJSON
					if err := json.Unmarshal([]byte(res.Stdout), &seen); err != nil {
						bad <- "load printed no JSON object: " + err.Error()
						continue
					}
					for name, v := range seen {
						var w, i int
						if _, err := fmt.Sscanf(name, "local%d-cat%d", &w, &i); err != nil || v != (payloadJSON{W: w, I: i}) {
							bad <- fmt.Sprintf("category %s holds %+v", name, v)
						}
					}
					reads.Add(1)
				}
			})
		}
		failed := writeConcurrently(user, "local", 4, 15, 0)
		close(stop)
		readers.Wait()
		close(bad)
		Expect(failed).To(BeEmpty())
		var problems []string
		for p := range bad {
			problems = append(problems, p)
		}
		Expect(problems).To(BeEmpty())
		Expect(reads.Load()).To(BeNumerically(">", 0))
		GinkgoWriter.Printf("%d concurrent loads while 4 writers stored 60 categories\n", reads.Load())

		st := expectAll(user, "local", 4, 15, 0)
		// No garbage: the directory holds exactly the objects the vault references.
		Expect(files(filepath.Join(dir, "aegis-vault", "objects"))).To(HaveLen(int(st["objects"].(float64))))
	})

	It("keeps every category of 3 remote clients writing one vault on aegisd (3 × 8)", func() {
		dir := GinkgoT().TempDir()
		writeFile(dir, "pass", "remote concurrent passphrase\n")
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		user := runner{Dir: dir, Env: []string{
			"AEGIS_REMOTE=" + serverURL,
			"AEGIS_ATTEST_SECRET_FILE=" + secretFile,
			"AEGIS_VAULT_NAME=concurrent-" + hex.EncodeToString(b),
			"AEGIS_PASSPHRASE_FILE=" + filepath.Join(dir, "pass"),
		}}
		user.ok("init")
		// No writer lock on a remote store: the clients meet at the header's
		// compare-and-swap and retry.
		Expect(writeConcurrently(user, "remote", 3, 8, 200<<10)).To(BeEmpty())
		expectAll(user, "remote", 3, 8, 200<<10)
	})
})
