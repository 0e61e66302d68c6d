package main_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/domain/vault"
)

// checkReport is the JSON of aegis check --json (vault.CheckReport).
type checkReport struct {
	ReadData     bool   `json:"read_data"`
	Epoch        uint64 `json:"epoch"`
	Categories   int    `json:"categories"`
	Objects      int    `json:"objects"`
	BytesRead    uint64 `json:"bytes_read"`
	Unreferenced *int   `json:"unreferenced"`
	Own          *int   `json:"unreferenced_own"`
	Problems     []struct {
		Category, Object, Kind, Message string
	} `json:"problems"`
	Warnings []any `json:"warnings"`
}

func parseCheck(out string) checkReport {
	GinkgoHelper()
	var rep checkReport
	Expect(json.Unmarshal([]byte(out), &rep)).To(Succeed(), out)
	return rep
}

// putPhotos puts 3 MiB of random bytes as the category "photos" and returns the
// paths of its chunks (the 1 MiB objects the put added under objects), sorted.
func putPhotos(user runner, objects string) []string {
	GinkgoHelper()
	before := files(objects)
	payload := make([]byte, 3<<20)
	_, _ = rand.Read(payload)
	user.input(payload).ok("put", "photos")
	var chunks []string
	for p, size := range files(objects) {
		// (On aegisd's store an object is the hash of its write-enabler and the body.)
		if _, old := before[p]; !old && (size == 1<<20 || size == 32+1<<20) {
			chunks = append(chunks, p)
		}
	}
	Expect(chunks).To(HaveLen(4)) // 3 MiB need 4 chunks of 1 MiB
	sort.Strings(chunks)
	return chunks
}

func flipByte(path string, off int) {
	GinkgoHelper()
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	b[off] ^= 0x01
	Expect(os.WriteFile(path, b, 0o600)).To(Succeed())
}

var _ = Describe("aegis check", func() {
	var (
		dir      string
		objects  string
		user     runner
		photos   []string // the chunk files of the category "photos"
		jsonObjs []string // the objects of the three categories of data.json
	)

	BeforeEach(func() {
		dir = GinkgoT().TempDir()
		writeFile(dir, "pass", "correct horse battery staple\n")
		writeFile(dir, "data.json", sample)
		user = runner{Dir: dir, Env: []string{"AEGIS_PASSPHRASE_FILE=" + filepath.Join(dir, "pass")}}
		objects = filepath.Join(dir, "aegis-vault", "objects")
	})

	It("refuses arguments (exit 2) and says to run aegis init on a missing vault (exit 5)", func() {
		user.fails(5, "run `aegis init`", "check")
		user.fails(2, "usage: aegis check", "check", "photos")
		user.fails(2, "unknown flag --nope", "check", "--nope")
	})

	Context("on a local vault", func() {
		BeforeEach(func() {
			user.ok("init")
			before := files(objects)
			user.ok("store", "data.json")
			added := files(objects)
			photos = putPhotos(user, objects)
			// The store added the three categories and a manifest chunk, which the
			// put replaced.
			jsonObjs = nil
			after := files(objects)
			for p := range added {
				if _, old := before[p]; !old {
					if _, still := after[p]; still {
						jsonObjs = append(jsonObjs, p)
					}
				}
			}
			Expect(jsonObjs).To(HaveLen(3))
		})

		It("finds no damage in a sound vault (exit 0), with and without --read-data, and prints the report with --json", func() {
			out := user.ok("check")
			Expect(out).To(ContainSubstring("checked 4 categories, 9 objects"))
			Expect(out).To(ContainSubstring("--read-data also authenticates every chunk"))
			Expect(out).To(ContainSubstring("unreferenced objects: 0\n"))
			Expect(out).To(HaveSuffix("no damage found\n"))
			Expect(user.ok("check", "--read-data")).To(ContainSubstring("every chunk read and authenticated"))

			rep := parseCheck(user.ok("check", "--read-data", "--json"))
			Expect(rep.ReadData).To(BeTrue())
			Expect(rep.Categories).To(Equal(4))
			Expect(rep.Objects).To(Equal(9)) // header, manifest, 3 JSON categories, 4 chunks of photos
			Expect(rep.BytesRead).To(BeNumerically(">=", 4<<20))
			Expect(rep.Problems).To(BeEmpty())
			Expect(rep.Unreferenced).To(HaveValue(Equal(0)))
			Expect(rep.Own).To(HaveValue(Equal(0)))
			Expect(parseCheck(user.ok("--json", "check")).ReadData).To(BeFalse())
		})

		It("passes a flipped byte without --read-data (the size is right), and names the category with it (exit 4)", func() {
			flipByte(photos[2], 1000)
			Expect(user.ok("check")).To(ContainSubstring("no damage found"))
			res := user.fails(4, `check: damage found in category "photos"`, "check", "--read-data")
			Expect(res.Stdout).To(ContainSubstring(`DAMAGED  auth: category "photos" chunk `))
			Expect(res.Stdout).To(ContainSubstring("object " + filepath.Base(photos[2])))
			Expect(res.Stdout).To(HaveSuffix("damaged: category \"photos\"\n"))

			res = user.fails(4, "integrity check failed", "check", "--read-data", "--json")
			rep := parseCheck(res.Stdout)
			Expect(rep.Problems).To(HaveLen(1))
			Expect(rep.Problems[0].Category).To(Equal("photos"))
			Expect(rep.Problems[0].Kind).To(Equal("auth"))
			Expect(rep.Problems[0].Object).To(Equal(filepath.Base(photos[2])))
		})

		It("names a truncated chunk (exit 4), without --read-data too", func() {
			Expect(os.Truncate(photos[1], 4096)).To(Succeed())
			res := user.fails(4, `damage found in category "photos"`, "check")
			Expect(res.Stdout).To(ContainSubstring("DAMAGED  truncated: category \"photos\" chunk "))
			Expect(res.Stdout).To(ContainSubstring("the object is 4096 bytes, the manifest records 1048576"))
			user.fails(4, `damage found in category "photos"`, "check", "--read-data")
		})

		It("names a missing chunk (exit 4)", func() {
			Expect(os.Remove(photos[3])).To(Succeed())
			res := user.fails(4, `damage found in category "photos"`, "check")
			Expect(res.Stdout).To(ContainSubstring("DAMAGED  missing: category \"photos\" chunk "))
			Expect(res.Stdout).To(ContainSubstring("the object is not in the store; object " + filepath.Base(photos[3])))
		})

		It("names every damaged category, with each of its problems", func() {
			flipByte(photos[0], 77)
			Expect(os.Remove(photos[1])).To(Succeed())
			for _, p := range jsonObjs {
				flipByte(p, 500)
			}
			res := user.fails(4, `damage found in 4 categories "bookmarks", "journal", "photos", "settings"`, "check", "--read-data")
			Expect(res.Stdout).To(ContainSubstring(`DAMAGED  auth: category "bookmarks" chunk 0 of 1`))
			Expect(res.Stdout).To(ContainSubstring(`DAMAGED  auth: category "journal" chunk 0 of 1`))
			Expect(res.Stdout).To(ContainSubstring(`DAMAGED  auth: category "settings" chunk 0 of 1`))
			Expect(res.Stdout).To(ContainSubstring("DAMAGED  auth: category \"photos\" chunk "))
			Expect(res.Stdout).To(ContainSubstring("DAMAGED  missing: category \"photos\" chunk "))
			rep := parseCheck(user.fails(4, "damage found", "check", "--read-data", "--json").Stdout)
			Expect(rep.Problems).To(HaveLen(5))
			// Without --read-data only the missing chunk shows.
			res = user.fails(4, `damage found in category "photos"`, "check")
			Expect(res.Stdout).To(ContainSubstring("DAMAGED  missing"))
			Expect(res.Stdout).NotTo(ContainSubstring("DAMAGED  auth"))
		})

		It("reports a damaged header as damage (exit 4), in JSON too", func() {
			header := filepath.Join(objects, vault.HeaderID("").String()[:2], vault.HeaderID("").String())
			flipByte(header, 100)
			res := user.fails(4, "check: damage found in the vault header or manifest", "check")
			Expect(res.Stdout).To(ContainSubstring("the vault does not open"))
			Expect(res.Stdout).To(ContainSubstring("checksum mismatch"))

			res = user.fails(4, "damage found", "check", "--json")
			rep := parseCheck(res.Stdout)
			Expect(rep.Problems).To(HaveLen(1))
			Expect(rep.Problems[0].Category).To(BeEmpty())
			Expect(rep.Problems[0].Kind).To(Equal("unreadable"))
			Expect(rep.Problems[0].Message).To(ContainSubstring("vault header"))
			Expect(rep.Unreferenced).To(BeNil())
		})

		It("counts a foreign object as unreferenced, not damage (exit 0), and leaves it", func() {
			id := make([]byte, 32)
			_, _ = rand.Read(id)
			name := hex.EncodeToString(id)
			Expect(os.MkdirAll(filepath.Join(objects, name[:2]), 0o700)).To(Succeed())
			foreign := writeFile(filepath.Join(objects, name[:2]), name, "not an object of this vault")
			out := user.ok("check", "--read-data")
			Expect(out).To(ContainSubstring("unreferenced objects: 1 (not damage): 1 not of this vault"))
			Expect(out).To(HaveSuffix("no damage found\n"))
			rep := parseCheck(user.ok("check", "--json"))
			Expect(rep.Unreferenced).To(HaveValue(Equal(1)))
			Expect(rep.Own).To(HaveValue(Equal(0)))
			Expect(foreign).To(BeAnExistingFile())
			// Not this vault's (its id lacks the vault's tag): a write leaves it too.
			user.input([]byte("more")).ok("put", "notes")
			Expect(foreign).To(BeAnExistingFile())
		})

		It("reports a wrong passphrase as such (exit 3)", func() {
			writeFile(dir, "wrong", "not the passphrase\n")
			user.fails(3, "wrong passphrase", "--passphrase-file", filepath.Join(dir, "wrong"), "check")
		})
	})

	It("checks a remote vault (exit 0), and names a damaged category there (exit 4)", func() {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		remote := user.with(
			"AEGIS_REMOTE="+serverURL,
			"AEGIS_ATTEST_SECRET_FILE="+secretFile,
			"AEGIS_VAULT_NAME=check-"+hex.EncodeToString(b),
		)
		remote.ok("init")
		remote.ok("store", "data.json")
		chunks := putPhotos(remote, serverData)
		out := remote.ok("check", "--read-data")
		Expect(out).To(ContainSubstring("checked 4 categories, 9 objects"))
		Expect(out).To(HaveSuffix("no damage found\n"))
		rep := parseCheck(remote.ok("check", "--json"))
		Expect(rep.Problems).To(BeEmpty())
		Expect(rep.Unreferenced).To(BeNil()) // aegisd lists nothing to clients: unknown

		flipByte(chunks[0], 4242)
		Expect(remote.ok("check")).To(ContainSubstring("no damage found"))
		res := remote.fails(4, `damage found in category "photos"`, "check", "--read-data")
		Expect(res.Stdout).To(ContainSubstring(`DAMAGED  auth: category "photos"`))
	})
})
