package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	ucli "github.com/urfave/cli/v3"

	"github.com/ai-pantheon/aegis/adapters/legacy"
	"github.com/ai-pantheon/aegis/anonymize"
	"github.com/ai-pantheon/aegis/domain"
)

// importLegacyCommand is `aegis import-legacy`: it moves every category of a
// vault written by the Python aegis-cloak 0.1 into the current vault, all or
// nothing (docs/migrating.md).
func (a *app) importLegacyCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "import-legacy",
		Usage:     "import every category of a vault written by the Python aegis-cloak 0.1, in one batch (all or nothing)",
		ArgsUsage: "DIR",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "legacy-passphrase-file", Usage: "file holding the legacy vault's passphrase (else " + EnvLegacyPassphrase + ", else a prompt)", Sources: ucli.EnvVars(EnvLegacyPassphraseFile)},
			&ucli.BoolFlag{Name: "replace", Usage: "overwrite categories the vault already holds (without it they make the import fail)"},
		},
		Action: a.cmdImportLegacy,
	}
}

// importReport is the --json output of import-legacy.
type importReport struct {
	LegacyDir string   `json:"legacy_dir"`
	Imported  []string `json:"imported"`
	Replaced  []string `json:"replaced"`
	Ignored   []string `json:"ignored"`
	// Verified counts the categories read back and found equal.
	Verified int              `json:"verified"`
	Report   anonymize.Report `json:"report"`
}

func (a *app) cmdImportLegacy(ctx context.Context, cmd *ucli.Command) error {
	got, err := args(cmd, 1, 1)
	if err != nil {
		return err
	}
	dir := got[0]
	const what = "import-legacy"

	// 1. Read and check every legacy file, then decrypt and check every
	// category. Nothing touches the current vault until all of it passed.
	lv, err := legacy.Open(dir)
	if err != nil {
		return wrapErr(what, err)
	}
	pass, err := a.passphrase(passSource{
		file: cmd.String("legacy-passphrase-file"), fileOpt: "legacy-passphrase-file",
		env: EnvLegacyPassphrase, prompt: "Legacy vault passphrase",
	}, false)
	if err != nil {
		return err
	}
	contents, err := lv.Decrypt(pass)
	clear(pass)
	if errors.Is(err, domain.ErrWrongPassphrase) {
		return wrapErr(fmt.Sprintf("%s: legacy vault %s", what, dir), err)
	}
	if err != nil {
		return wrapErr(what, err)
	}
	defer contents.Destroy()

	// 2. Open the current vault; refuse to overwrite what it already holds.
	s, err := a.openWrite(ctx, cmd)
	if err != nil {
		return err
	}
	defer s.close()
	existing, err := a.categories(ctx, s.v)
	if err != nil {
		return wrapErr(what, err)
	}
	values := make(map[string][]byte, len(contents.Categories))
	for _, c := range contents.Categories {
		values[c.Name] = c.Value
	}
	var replaced []string
	for _, name := range existing {
		if _, ok := values[name]; ok {
			replaced = append(replaced, name)
		}
	}
	if len(replaced) > 0 && !cmd.Bool("replace") {
		return wrapErr(what, fmt.Errorf("the vault already holds %s of the legacy vault; nothing was imported (give --replace to overwrite %s): %w",
			plural(len(replaced), "category", "categories")+" "+quoteList(replaced), itThem(len(replaced)), domain.ErrInvalidInput))
	}

	// 3. Store every category in one batch: one commit, all or nothing.
	rep, err := s.c.Store(ctx, values)
	if err != nil {
		return wrapErr(what, err)
	}

	// 4. Read every category back and compare it with what was decrypted.
	var bad []string
	verified := 0
	for name, r := range s.c.VerifyAll(ctx, values) {
		if r != anonymize.Pass {
			bad = append(bad, name)
		} else {
			verified++
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return wrapErr(what, fmt.Errorf("the batch was stored, but %s did not read back as imported: %w",
			quoteList(bad), domain.ErrIntegrity))
	}

	names := lv.Categories()
	if cmd.Bool("json") {
		return a.printJSON(importReport{
			LegacyDir: dir, Imported: names, Replaced: nonNil(replaced), Ignored: nonNil(lv.Ignored()),
			Verified: verified, Report: rep,
		})
	}
	w := a.out()
	fmt.Fprintf(w, "imported %s from %s in one commit: %d objects, %d requests; %d read back and verified\n",
		plural(len(names), "category", "categories"), dir, rep.Objects, rep.Requests, verified)
	if len(replaced) > 0 {
		fmt.Fprintf(w, "replaced: %s\n", quoteList(replaced))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "category\tlegacy bytes\tstored bytes (compact JSON)\tafter padding\tstored (encrypted)\t")
	for _, c := range contents.Categories {
		r := rep.Categories[c.Name]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", c.Name, c.LegacySize, r.PlaintextBytes, r.PaddedBytes, r.StoredBytes)
	}
	fmt.Fprintf(tw, "total\t\t%d\t%d\t%d\t\n", rep.TotalPlaintextBytes, rep.TotalPaddedBytes, rep.TotalEncryptedBytes)
	_ = tw.Flush()
	if ign := lv.Ignored(); len(ign) > 0 {
		fmt.Fprintf(w, "left alone (not part of a legacy vault): %s\n", quoteList(ign))
	}
	fmt.Fprintf(w, "%s was not changed. Once you have checked the import (aegis load), delete it securely: it still holds your data under the old format.\n", dir)
	return w.Flush()
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func itThem(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
