package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	ucli "github.com/urfave/cli/v3"
	"golang.org/x/term"

	"github.com/ai-pantheon/aegis/adapters/httpblob"
	"github.com/ai-pantheon/aegis/anonymize"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

func (a *app) cmdInit(ctx context.Context, cmd *ucli.Command) error {
	if _, err := args(cmd, 0, 0); err != nil {
		return err
	}
	var kdf string
	switch cmd.String("kdf") {
	case "pbkdf2", "pbkdf2-sha256":
		kdf = domain.KDFPBKDF2SHA256
	case "argon2id":
		kdf = domain.KDFArgon2id
	default:
		return usageErrorf("init: --kdf %q: want pbkdf2 or argon2id", cmd.String("kdf"))
	}
	b, err := a.backend(cmd)
	if err != nil {
		return err
	}
	pass, err := a.passphrase(a.current(cmd), true)
	if err != nil {
		return err
	}
	if err := checkStrength(pass, cmd.Bool(allowWeakFlag)); err != nil {
		clear(pass)
		return err
	}
	c, err := b.Create(ctx, pass, kdf)
	clear(pass)
	if err != nil {
		return wrapErr("init "+b.Where(), err)
	}
	return c.Close()
}

func (a *app) cmdPut(ctx context.Context, cmd *ucli.Command) error {
	got, err := args(cmd, 1, 2)
	if err != nil {
		return err
	}
	in := a.input(ctx)
	total := int64(-1)
	if len(got) == 2 && !isStdio(got[1]) {
		f, err := os.Open(got[1])
		if err != nil {
			return wrapErr("put", err)
		}
		defer f.Close()
		in = newCtxReader(ctx, f) // a FIFO may block like a pipe
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			total = fi.Size()
			in = f
		}
	}
	s, err := a.openWrite(ctx, cmd)
	if err != nil {
		return err
	}
	defer s.close()
	what := fmt.Sprintf("put %q", got[0])
	meter := newProgress(a.stderr, what, total)
	_, err = s.c.Put(ctx, got[0], progressReader{in, meter})
	meter.done()
	return wrapErr(what, err)
}

func (a *app) cmdGet(ctx context.Context, cmd *ucli.Command) error {
	got, err := args(cmd, 1, 1)
	if err != nil {
		return err
	}
	cat, target := got[0], cmd.String("output")
	s, err := a.open(ctx, cmd)
	if err != nil {
		return err
	}
	defer s.close()
	what := fmt.Sprintf("get %q", cat)
	total := int64(-1)
	if sizes, err := s.v.Sizes(ctx); err == nil {
		if n, ok := sizes[cat]; ok {
			total = int64(n)
		}
	}
	if isStdio(target) {
		w := a.out()
		// A bar on the terminal only when the content goes elsewhere.
		var meter *progress
		if f, ok := a.stdout.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
			meter = newProgress(a.stderr, what, total)
		}
		err := s.c.Get(ctx, cat, progressWriter{w, meter})
		meter.done()
		if err != nil {
			return wrapErr(what, err)
		}
		return wrapErr(what, w.Flush())
	}
	// A temporary file next to the target, renamed on success: a failed get
	// leaves nothing behind.
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".aegis-*")
	if err != nil {
		return wrapErr(what, err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	meter := newProgress(a.stderr, what, total)
	err = s.c.Get(ctx, cat, progressWriter{tmp, meter})
	meter.done()
	if err != nil {
		return wrapErr(what, err)
	}
	if err := tmp.Sync(); err != nil {
		return wrapErr(what, err)
	}
	if err := tmp.Close(); err != nil {
		return wrapErr(what, err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return wrapErr(what, err)
	}
	ok = true
	return nil
}

// readJSONObject reads a JSON object {category: value} from name ("-": standard
// input) and returns each value compacted. Syntax errors carry line and column.
func (a *app) readJSONObject(ctx context.Context, name string) (map[string][]byte, error) {
	var raw []byte
	var err error
	if isStdio(name) {
		name = "standard input"
		raw, err = io.ReadAll(a.input(ctx))
	} else {
		raw, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	err = dec.Decode(&m)
	if err == nil {
		if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
			return nil, fmt.Errorf("%s:%s: data after the JSON object: %w", name, lineCol(raw, dec.InputOffset()), domain.ErrInvalidInput)
		}
	}
	if err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, fmt.Errorf("%s:%s: invalid JSON: %v: %w", name, lineCol(raw, se.Offset-1), se, domain.ErrInvalidInput)
		case errors.As(err, &te):
			return nil, fmt.Errorf("%s:%s: want a JSON object {category: value}, found %s: %w", name, lineCol(raw, te.Offset), te.Value, domain.ErrInvalidInput)
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return nil, fmt.Errorf("%s:%s: invalid JSON: unexpected end of input: %w", name, lineCol(raw, int64(len(raw))), domain.ErrInvalidInput)
		}
		return nil, fmt.Errorf("%s: invalid JSON: %v: %w", name, err, domain.ErrInvalidInput)
	}
	if m == nil {
		return nil, fmt.Errorf("%s: want a JSON object {category: value}, found null: %w", name, domain.ErrInvalidInput)
	}
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		var buf bytes.Buffer
		if err := json.Compact(&buf, v); err != nil {
			return nil, fmt.Errorf("%s: category %q: %v: %w", name, k, err, domain.ErrInvalidInput)
		}
		out[k] = buf.Bytes()
	}
	return out, nil
}

// lineCol returns "line:column" (1-based) of byte offset off in b.
func lineCol(b []byte, off int64) string {
	off = min(max(off, 0), int64(len(b)))
	line, col := 1, 1
	for _, c := range b[:off] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("%d:%d", line, col)
}

func (a *app) cmdStore(ctx context.Context, cmd *ucli.Command) error {
	got, err := args(cmd, 1, 1)
	if err != nil {
		return err
	}
	data, err := a.readJSONObject(ctx, got[0])
	if err != nil {
		return wrapErr("store", err)
	}
	if len(data) == 0 {
		return wrapErr("store", fmt.Errorf("%s holds no categories: %w", got[0], domain.ErrInvalidInput))
	}
	s, err := a.openWrite(ctx, cmd)
	if err != nil {
		return err
	}
	defer s.close()
	rep, err := s.c.Store(ctx, data)
	if err != nil {
		return wrapErr("store", err)
	}
	if cmd.Bool("json") {
		return a.printJSON(rep)
	}
	w := a.out()
	fmt.Fprintf(w, "stored %d categories in one commit: %d objects\n", len(rep.Categories), rep.Objects)
	fmt.Fprintf(w, "sent %s in %s with %s, %s\n", plural(rep.Requests, "request", "requests"), plural(rep.Windows, "window", "windows"),
		plural(rep.Cover, "cover request", "cover requests"), plural(rep.TokensUsed, "token", "tokens"))
	fmt.Fprintf(w, "shuffle order (first object written): %s\n", strings.Join(rep.ShuffleOrder, ", "))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "category\tbytes before padding\tafter padding\tstored (encrypted)\t")
	for _, name := range slices.Sorted(maps.Keys(rep.Categories)) {
		c := rep.Categories[name]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t\n", name, c.PlaintextBytes, c.PaddedBytes, c.StoredBytes)
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t%d\t\n", rep.TotalPlaintextBytes, rep.TotalPaddedBytes, rep.TotalEncryptedBytes)
	_ = tw.Flush()
	return w.Flush()
}

func (a *app) printJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = a.stdout.Write(append(b, '\n'))
	return err
}

// missing fails with domain.ErrNotFound naming each of names that has not,
// once; then adds to the message.
func missing(names []string, has func(string) bool, then string) error {
	var gone []string
	for _, n := range names {
		if !has(n) && !slices.Contains(gone, n) {
			gone = append(gone, n)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	return fmt.Errorf("no %s %s in the vault%s: %w", pluralWord(len(gone), "category", "categories"), quoteList(gone), then, domain.ErrNotFound)
}

func (a *app) categories(ctx context.Context, v *vault.Vault) ([]string, error) {
	names, err := v.Categories(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(names, anonymize.IsChaff), nil
}

func (a *app) cmdLs(ctx context.Context, cmd *ucli.Command) error {
	if _, err := args(cmd, 0, 0); err != nil {
		return err
	}
	s, err := a.open(ctx, cmd)
	if err != nil {
		return err
	}
	defer s.close()
	names, err := a.categories(ctx, s.v)
	if err != nil {
		return wrapErr("ls", err)
	}
	if cmd.Bool("json") {
		if names == nil {
			names = []string{}
		}
		return a.printJSON(names)
	}
	w := a.out()
	for _, n := range names {
		fmt.Fprintln(w, n)
	}
	return w.Flush()
}

func (a *app) cmdRm(ctx context.Context, cmd *ucli.Command) error {
	got, err := args(cmd, 1, 1)
	if err != nil {
		return err
	}
	s, err := a.openWrite(ctx, cmd)
	if err != nil {
		return err
	}
	defer s.close()
	return wrapErr(fmt.Sprintf("rm %q", got[0]), s.v.Delete(ctx, got[0]))
}

func (a *app) cmdVerify(ctx context.Context, cmd *ucli.Command) error {
	got, err := args(cmd, 1, 1)
	if err != nil {
		return err
	}
	want, err := a.readJSONObject(ctx, got[0])
	if err != nil {
		return wrapErr("verify", err)
	}
	s, err := a.open(ctx, cmd)
	if err != nil {
		return err
	}
	defer s.close()
	res := s.c.VerifyAll(ctx, want)
	// A value stored with other white space or key order still passes: compare
	// canonical JSON (digests, in constant time).
	var corrupt []string
	var firstCorrupt error
	for _, name := range slices.Sorted(maps.Keys(res)) {
		if res[name] == anonymize.Pass {
			continue
		}
		stored, err := s.v.Load(ctx, name)
		if errors.Is(err, domain.ErrIntegrity) {
			// Not a mismatch: what is stored does not authenticate.
			corrupt = append(corrupt, name)
			if firstCorrupt == nil {
				firstCorrupt = err
			}
			continue
		}
		if err != nil {
			continue
		}
		x, err1 := vault.CanonicalJSON(stored)
		y, err2 := vault.CanonicalJSON(want[name])
		if err1 == nil && err2 == nil {
			dx, dy := sha256.Sum256(x), sha256.Sum256(y)
			if subtle.ConstantTimeCompare(dx[:], dy[:]) == 1 {
				res[name] = anonymize.Pass
			}
		}
	}
	failed := 0
	for _, r := range res {
		if r != anonymize.Pass {
			failed++
		}
	}
	if cmd.Bool("json") {
		if err := a.printJSON(res); err != nil {
			return err
		}
	} else {
		w := a.out()
		for _, n := range slices.Sorted(maps.Keys(res)) {
			fmt.Fprintf(w, "%s\t%s\n", res[n], n)
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if len(corrupt) > 0 {
		return wrapErr("verify", wrapErr(fmt.Sprintf("%d of %d categories failed; the stored data of %s is corrupt (run aegis check)",
			failed, len(res), quoteList(corrupt)), firstCorrupt))
	}
	if failed > 0 {
		return wrapErr("verify", fmt.Errorf("%d of %d categories failed", failed, len(res)))
	}
	return nil
}

func (a *app) cmdStats(ctx context.Context, cmd *ucli.Command) error {
	if _, err := args(cmd, 0, 0); err != nil {
		return err
	}
	s, err := a.open(ctx, cmd)
	if err != nil {
		return err
	}
	defer s.close()
	st, err := s.v.Stats(ctx)
	if err != nil {
		return wrapErr("stats", err)
	}
	if cmd.Bool("json") {
		return a.printJSON(st)
	}
	w := a.out()
	fmt.Fprintf(w, "categories:       %d\n", st.Categories)
	fmt.Fprintf(w, "objects:          %d (header, manifest and data)\n", st.Objects)
	fmt.Fprintf(w, "plaintext bytes:  %d\n", st.PlaintextBytes)
	fmt.Fprintf(w, "stored bytes:     %d\n", st.StoredBytes)
	if st.PlaintextBytes > 0 {
		fmt.Fprintf(w, "overhead:         %.1f%%\n", 100*(float64(st.StoredBytes)-float64(st.PlaintextBytes))/float64(st.PlaintextBytes))
	}
	fmt.Fprintf(w, "commits (epoch):  %d\n", st.Epoch)
	fmt.Fprintf(w, "KDF:              %s\n", st.KDF)
	sizes := make([]int, 0, len(st.Buckets))
	for k := range st.Buckets {
		sizes = append(sizes, k)
	}
	sort.Ints(sizes)
	fmt.Fprintln(w, "object sizes:")
	for _, k := range sizes {
		fmt.Fprintf(w, "  %8d bytes  × %d\n", k, st.Buckets[k])
	}
	return w.Flush()
}

func (a *app) cmdPasswd(ctx context.Context, cmd *ucli.Command) error {
	if _, err := args(cmd, 0, 0); err != nil {
		return err
	}
	s, err := a.openWrite(ctx, cmd)
	if err != nil {
		return err
	}
	defer s.close()
	np, err := a.passphrase(passSource{file: cmd.String("new-passphrase-file"), fileOpt: "new-passphrase-file", env: EnvNewPassphrase, prompt: "New passphrase"}, true)
	if err != nil {
		return err
	}
	if err := checkStrength(np, cmd.Bool(allowWeakFlag)); err != nil {
		clear(np)
		return err
	}
	if cmd.Bool("rotate") {
		err = s.v.Rekey(ctx, np, "")
	} else {
		err = s.v.ChangePassphrase(ctx, np)
	}
	clear(np)
	return wrapErr("passwd", err)
}

func (a *app) cmdRotate(ctx context.Context, cmd *ucli.Command) error {
	names, err := args(cmd, 0, -1)
	if err != nil {
		return err
	}
	s, err := a.openWrite(ctx, cmd)
	if err != nil {
		return err
	}
	defer s.close()
	all, err := s.v.Categories(ctx)
	if err != nil {
		return wrapErr("rotate", err)
	}
	if len(names) == 0 {
		names = all
	}
	// Every name is checked before any category is rotated: a typo changes
	// nothing.
	if err := missing(names, func(n string) bool { return slices.Contains(all, n) }, "; nothing was rotated"); err != nil {
		return wrapErr("rotate", err)
	}
	names = slices.Compact(slices.Sorted(slices.Values(names)))
	for _, n := range names {
		if err := s.v.RotateKey(ctx, n); err != nil {
			return wrapErr(fmt.Sprintf("rotate %q", n), err)
		}
	}
	return nil
}

// Bounds and defaults of tokens fetch.
const (
	// MaxTokens bounds --count.
	MaxTokens = 10000
	// DefaultFetchCount is the default --count.
	DefaultFetchCount = 256
	// DefaultFetchBatch is the default --batch: tokens per issuance request.
	DefaultFetchBatch = 64
)

// FetchReport is what tokens fetch reports (its --json output).
type FetchReport struct {
	// TokenType is the tokens' type (2 for blind RSA), TokenTypeName its name.
	TokenType     uint16 `json:"token_type"`
	TokenTypeName string `json:"token_type_name"`
	// Count is the number of tokens fetched, Batch the tokens per issuance
	// request and RoundTrips the number of issuance requests: ceil(Count/Batch).
	Count      int `json:"count"`
	Batch      int `json:"batch"`
	RoundTrips int `json:"round_trips"`
	// ElapsedS is the time from the first token asked of the pool to the last
	// one received, in seconds; TokensPerS is Count / ElapsedS.
	ElapsedS   float64 `json:"elapsed_s"`
	TokensPerS float64 `json:"tokens_per_s"`
}

// cmdTokensFetch drains a token pool of the --remote server: N tokens in
// ceil(N/batch) issuance round trips, one after another, each token checked to
// parse; it reports the rate and writes the tokens only with --out.
func (a *app) cmdTokensFetch(ctx context.Context, cmd *ucli.Command) error {
	if _, err := args(cmd, 0, 0); err != nil {
		return err
	}
	n := int(cmd.Int("count"))
	if n < 1 || n > MaxTokens {
		return usageErrorf("tokens fetch: --count %d: want 1 to %d", n, MaxTokens)
	}
	batch := int(cmd.Int("batch"))
	if batch < 1 || batch > privacypass.MaxBatch {
		return usageErrorf("tokens fetch: --batch %d: want 1 to %d", batch, privacypass.MaxBatch)
	}
	if cmd.String("remote") == "" {
		return usageErrorf("tokens fetch: tokens come from a server: give --remote URL")
	}
	b, err := a.backend(cmd)
	if err != nil {
		return err
	}
	r := b.(*Remote)
	var rounds atomic.Int64
	pool, err := r.TokenPool(ctx, &httpblob.PoolOptions{Batch: batch, OnFetch: func(int, time.Duration) { rounds.Add(1) }})
	if err != nil {
		return wrapErr("tokens fetch", err)
	}
	// No background batch: exactly ceil(n/batch) round trips, each timed in full.
	pool.SetLowWater(0)
	out := cmd.String("out")
	var buf bytes.Buffer
	var typ privacypass.TokenType
	start := time.Now()
	for i := range n {
		t, err := pool.Token(ctx)
		if err != nil {
			return wrapErr("tokens fetch", err)
		}
		tok, err := privacypass.ParseToken(t)
		if err != nil {
			return wrapErr("tokens fetch", fmt.Errorf("token %d of %d from the issuer: %w", i+1, n, err))
		}
		if i == 0 {
			typ = tok.TokenType
		} else if tok.TokenType != typ {
			return wrapErr("tokens fetch", fmt.Errorf("token %d of %d from the issuer is of %v, the first was of %v", i+1, n, tok.TokenType, typ))
		}
		if out != "" {
			buf.WriteString(base64.URLEncoding.EncodeToString(t))
			buf.WriteByte('\n')
		}
	}
	elapsed := time.Since(start)
	rep := FetchReport{
		TokenType: uint16(typ), TokenTypeName: typ.String(), Count: n, Batch: batch,
		RoundTrips: int(rounds.Load()), ElapsedS: elapsed.Seconds(),
	}
	if elapsed > 0 {
		rep.TokensPerS = float64(n) / elapsed.Seconds()
	}
	// The report goes to standard output unless the tokens do.
	report := a.stdout
	switch out {
	case "":
	case "-":
		if _, err := a.stdout.Write(buf.Bytes()); err != nil {
			return err
		}
		report = a.stderr
	default:
		if err := writeSecretFile(out, buf.Bytes()); err != nil {
			return wrapErr("tokens fetch", err)
		}
	}
	if cmd.Bool("json") {
		j, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		_, err = report.Write(append(j, '\n'))
		return err
	}
	_, err = fmt.Fprintf(report, "%s: %d tokens in %.3f s, %.1f tokens/s (%s, batches of %d)\n",
		rep.TokenTypeName, rep.Count, rep.ElapsedS, rep.TokensPerS, plural(rep.RoundTrips, "issuance round trip", "issuance round trips"), rep.Batch)
	return err
}

// writeSecretFile replaces name with data atomically, mode 0600.
func writeSecretFile(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".aegis-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
