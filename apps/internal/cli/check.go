package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	ucli "github.com/urfave/cli/v3"

	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

func (a *app) checkCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "check",
		Usage: "check the whole vault: every object is there with its size (--read-data: and authenticates); exit 4 on damage",
		Flags: []ucli.Flag{
			&ucli.BoolFlag{Name: "read-data", Usage: "also read and authenticate every chunk of every category (reads the whole vault)"},
		},
		Action: a.cmdCheck,
	}
}

// cmdCheck runs Vault.Check and prints its report (--json: the report itself).
// Damage is exit 4, also when it keeps the vault from opening at all.
func (a *app) cmdCheck(ctx context.Context, cmd *ucli.Command) error {
	if _, err := args(cmd, 0, 0); err != nil {
		return err
	}
	b, err := a.backend(cmd)
	if err != nil {
		return err
	}
	pass, err := a.passphrase(a.current(cmd), false)
	if err != nil {
		return err
	}
	readData := cmd.Bool("read-data")
	c, err := b.Open(ctx, pass)
	clear(pass)
	var v *vault.Vault
	if err == nil {
		v = c.Vault()
	}
	var rep vault.CheckReport
	opened := err == nil
	switch {
	case errors.Is(err, domain.ErrIntegrity):
		// The header, the root or the manifest does not decode or authenticate: that
		// is damage to report, not a failure to run.
		rep = vault.CheckReport{ReadData: readData, Warnings: []vault.CheckProblem{}, Problems: []vault.CheckProblem{{
			Kind: vault.ProblemUnreadable, Message: "the vault does not open: " + strings.TrimPrefix(describe(err), "open: "),
		}}}
	case err != nil:
		return wrapErr("", err)
	default:
		defer v.Close()
		if rep, err = v.Check(ctx, vault.CheckOptions{ReadData: readData}); err != nil {
			return wrapErr("check", err)
		}
	}
	if cmd.Bool("json") {
		if err := a.printJSON(rep); err != nil {
			return err
		}
	} else {
		_, local := b.(*Local)
		if err := printCheck(a.stdout, rep, local, opened); err != nil {
			return err
		}
	}
	if !rep.Damaged() {
		return nil
	}
	return wrapErr("check", fmt.Errorf("damage found in %s: %w", damageSummary(rep), domain.ErrIntegrity))
}

// damageSummary names what is damaged: the categories, and the header or
// manifest.
func damageSummary(rep vault.CheckReport) string {
	var parts []string
	for _, p := range rep.Problems {
		if p.Category == "" {
			parts = append(parts, "the vault header or manifest")
			break
		}
	}
	if cats := rep.DamagedCategories(); len(cats) > 0 {
		quoted := make([]string, len(cats))
		for i, c := range cats {
			quoted[i] = fmt.Sprintf("%q", c)
		}
		noun := "category"
		if len(cats) > 1 {
			noun = fmt.Sprintf("%d categories", len(cats))
		}
		parts = append(parts, noun+" "+strings.Join(quoted, ", "))
	}
	return strings.Join(parts, " and ")
}

// printCheck writes the report for people: what was checked, each problem on one
// line, the unreferenced objects and the verdict. opened is false when the vault
// did not open (then nothing but that was checked).
func printCheck(out io.Writer, rep vault.CheckReport, local, opened bool) error {
	w := bufio.NewWriter(out)
	mode := "existence and sizes; --read-data also authenticates every chunk"
	if rep.ReadData {
		mode = "every chunk read and authenticated"
	}
	if opened {
		fmt.Fprintf(w, "checked %s, %s, %d bytes read (%s)\n", count(rep.Categories, "category", "categories"), count(rep.Objects, "object", "objects"), rep.BytesRead, mode)
	} else {
		fmt.Fprintln(w, "checked nothing but the header and the manifest: the vault does not open")
	}
	for _, p := range rep.Warnings {
		fmt.Fprintf(w, "warning  %s: %s\n", p.Kind, p.Message)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "DAMAGED  %s: %s", p.Kind, p.Message)
		if p.Object != "" {
			fmt.Fprintf(w, "; object %s", p.Object)
		}
		fmt.Fprintln(w)
	}
	switch {
	case rep.Unreferenced == nil && rep.Epoch == 0:
		// The header or the manifest could not be read: nothing to compare the
		// store with.
	case rep.Unreferenced == nil:
		fmt.Fprintln(w, "unreferenced objects: unknown (the store cannot list its objects)")
	default:
		fmt.Fprintf(w, "unreferenced objects: %s\n", unreferenced(*rep.Unreferenced, *rep.UnreferencedOwn, local))
	}
	if rep.Damaged() {
		fmt.Fprintf(w, "damaged: %s\n", damageSummary(rep))
	} else {
		fmt.Fprintln(w, "no damage found")
	}
	return w.Flush()
}

// unreferenced explains the unreferenced objects: those with the vault's tag
// (debris and writes under way, which Sweep removes on a local vault) and the
// others (another vault's, or written before ids carried a tag).
func unreferenced(n, own int, local bool) string {
	if n == 0 {
		return "0"
	}
	var parts []string
	if own > 0 {
		p := fmt.Sprintf("%d of this vault, left by interrupted writes or of writes under way", own)
		if local {
			p += ", which the next writing command removes"
		}
		parts = append(parts, p)
	}
	if other := n - own; other > 0 {
		p := fmt.Sprintf("%d not of this vault (another vault's, or written before object ids carried the vault's tag), left alone", other)
		if !local {
			p = fmt.Sprintf("%d not of this vault (other vaults on the server, or written before object ids carried the vault's tag)", other)
		}
		parts = append(parts, p)
	}
	return fmt.Sprintf("%d (not damage): %s", n, strings.Join(parts, "; "))
}

// count is "1 category", "2 categories".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
