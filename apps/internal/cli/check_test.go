package cli

import (
	"strings"
	"testing"

	"github.com/ai-pantheon/aegis/domain/vault"
)

func TestPrintCheck(t *testing.T) {
	zero, one, two := 0, 1, 2
	obj := strings.Repeat("ab", 32)
	cases := []struct {
		name          string
		rep           vault.CheckReport
		local, opened bool
		want          []string // lines, in order
		summary       string   // damageSummary, "" when sound
	}{
		{
			name:   "sound, sizes only",
			rep:    vault.CheckReport{Epoch: 3, Categories: 2, Objects: 4, BytesRead: 4096, Unreferenced: &zero, UnreferencedOwn: &zero},
			opened: true,
			want: []string{
				"checked 2 categories, 4 objects, 4096 bytes read (existence and sizes; --read-data also authenticates every chunk)",
				"unreferenced objects: 0",
				"no damage found",
			},
		},
		{
			name: "damaged categories, local debris",
			rep: vault.CheckReport{ReadData: true, Epoch: 3, Categories: 3, Objects: 9, BytesRead: 1 << 20, Unreferenced: &two, UnreferencedOwn: &two, Problems: []vault.CheckProblem{
				{Category: "journal", Object: obj, Kind: vault.ProblemAuth, Message: `category "journal" chunk 0 of 1: the object does not authenticate`},
				{Category: "photos", Object: obj, Kind: vault.ProblemMissing, Message: `category "photos" chunk 2 of 4: the object is not in the store`},
				{Category: "photos", Object: obj, Kind: vault.ProblemAuth, Message: `category "photos" chunk 3 of 4: the object does not authenticate`},
			}},
			local: true, opened: true,
			want: []string{
				"checked 3 categories, 9 objects, 1048576 bytes read (every chunk read and authenticated)",
				`DAMAGED  auth: category "journal" chunk 0 of 1: the object does not authenticate; object ` + obj,
				`DAMAGED  missing: category "photos" chunk 2 of 4: the object is not in the store; object ` + obj,
				`DAMAGED  auth: category "photos" chunk 3 of 4: the object does not authenticate; object ` + obj,
				"unreferenced objects: 2 (not damage): 2 of this vault, left by interrupted writes or of writes under way, which the next writing command removes",
				`damaged: 2 categories "journal", "photos"`,
			},
			summary: `2 categories "journal", "photos"`,
		},
		{
			name: "manifest chunk and a category, remote store that cannot list",
			rep: vault.CheckReport{Epoch: 5, Categories: 1, Objects: 3, Problems: []vault.CheckProblem{
				{Object: obj, Kind: vault.ProblemTruncated, Message: "manifest chunk 0 of 1: short"},
				{Category: "x", Object: obj, Kind: vault.ProblemSize, Message: `category "x" chunk 0 of 1: long`},
			}, Warnings: []vault.CheckProblem{{Category: "x", Kind: vault.ProblemPadding, Message: "odd sizes"}}},
			opened: true,
			want: []string{
				"checked 1 category, 3 objects, 0 bytes read (existence and sizes; --read-data also authenticates every chunk)",
				"warning  padding: odd sizes",
				"DAMAGED  truncated: manifest chunk 0 of 1: short; object " + obj,
				`DAMAGED  size: category "x" chunk 0 of 1: long; object ` + obj,
				"unreferenced objects: unknown (the store cannot list its objects)",
				`damaged: the vault header or manifest and category "x"`,
			},
			summary: `the vault header or manifest and category "x"`,
		},
		{
			name: "the vault does not open",
			rep: vault.CheckReport{Problems: []vault.CheckProblem{
				{Kind: vault.ProblemUnreadable, Message: "the vault does not open: vault header: checksum mismatch"},
			}},
			want: []string{
				"checked nothing but the header and the manifest: the vault does not open",
				"DAMAGED  unreadable: the vault does not open: vault header: checksum mismatch",
				"damaged: the vault header or manifest",
			},
			summary: "the vault header or manifest",
		},
		{
			name:   "local foreign object",
			rep:    vault.CheckReport{Epoch: 1, Unreferenced: &one, UnreferencedOwn: &zero},
			local:  true,
			opened: true,
			want: []string{
				"checked 0 categories, 0 objects, 0 bytes read (existence and sizes; --read-data also authenticates every chunk)",
				"unreferenced objects: 1 (not damage): 1 not of this vault (another vault's, or written before object ids carried the vault's tag), left alone",
				"no damage found",
			},
		},
		{
			name:   "remote debris",
			rep:    vault.CheckReport{Epoch: 1, Unreferenced: &two, UnreferencedOwn: &one},
			opened: true,
			want: []string{
				"checked 0 categories, 0 objects, 0 bytes read (existence and sizes; --read-data also authenticates every chunk)",
				"unreferenced objects: 2 (not damage): 1 of this vault, left by interrupted writes or of writes under way; 1 not of this vault (other vaults on the server, or written before object ids carried the vault's tag)",
				"no damage found",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := printCheck(&b, tc.rep, tc.local, tc.opened); err != nil {
				t.Fatal(err)
			}
			if got, want := b.String(), strings.Join(tc.want, "\n")+"\n"; got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
			if tc.rep.Damaged() {
				if got := damageSummary(tc.rep); got != tc.summary {
					t.Errorf("damageSummary = %q, want %q", got, tc.summary)
				}
			}
		})
	}
}
