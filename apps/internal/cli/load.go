package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"unicode/utf8"

	ucli "github.com/urfave/cli/v3"

	"github.com/ai-pantheon/aegis/domain"
)

// loadInline is the largest category load reads into memory whole; a larger
// one is read twice, streamed, whatever it holds: once to tell what it holds,
// once to print it (or, binary, to check it is unchanged).
const loadInline = 1 << 20

// Kinds of category content, as load prints them.
const (
	kindJSON   = iota // a JSON text: printed as it is
	kindText          // UTF-8 text: printed as a JSON string
	kindBinary        // anything else: {"binary": true, "size": N}
)

// classifier tells the kind of what is written to it, in bounded memory.
type classifier struct {
	js jsonCheck
	u8 utf8Check
	n  uint64
}

func (c *classifier) Write(p []byte) (int, error) {
	c.n += uint64(len(p))
	_, _ = c.u8.Write(p)
	if !c.u8.failed {
		_, _ = c.js.Write(p)
	}
	return len(p), nil
}

func (c *classifier) kind() int {
	switch {
	case !c.u8.Valid():
		return kindBinary
	case c.js.Valid():
		return kindJSON
	}
	return kindText
}

func kindOf(b []byte) int {
	switch {
	case !utf8.Valid(b):
		return kindBinary
	case json.Valid(b):
		return kindJSON
	}
	return kindText
}

// cmdLoad prints categories as one JSON object, a category at a time and in
// bounded memory: JSON content as it is, other UTF-8 text as a JSON string,
// anything else as {"binary": true, "size": N} (read it with aegis get). Every
// category is read whole, so a damaged one fails the command (exit 4).
// With no names it prints every category, in a random order: the order they
// are read in, which the store sees.
func (a *app) cmdLoad(ctx context.Context, cmd *ucli.Command) error {
	names, err := args(cmd, 0, -1)
	if err != nil {
		return err
	}
	s, err := a.open(ctx, cmd)
	if err != nil {
		return err
	}
	defer s.close()
	sizes, err := s.v.Sizes(ctx)
	if err != nil {
		return wrapErr("load", err)
	}
	if len(names) == 0 {
		all, err := a.categories(ctx, s.v)
		if err != nil {
			return wrapErr("load", err)
		}
		order, err := domain.Permutation(domain.DefaultRandom(), len(all))
		if err != nil {
			return wrapErr("load", err)
		}
		for _, k := range order {
			names = append(names, all[k])
		}
	} else if err := missing(names, func(n string) bool { _, ok := sizes[n]; return ok }, ""); err != nil {
		return wrapErr("load", err)
	}
	w := bufio.NewWriterSize(a.stdout, 64<<10)
	if len(names) == 0 {
		if _, err := w.WriteString("{}\n"); err != nil {
			return err
		}
		return w.Flush()
	}
	seen := map[string]bool{}
	first := true
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		sep := ",\n  "
		if first {
			sep, first = "{\n  ", false
		}
		key, _ := json.Marshal(n)
		if _, err := fmt.Fprintf(w, "%s%s: ", sep, key); err != nil {
			return err
		}
		if err := a.loadOne(ctx, s, w, n, sizes[n]); err != nil {
			return wrapErr(fmt.Sprintf("load %q", n), err)
		}
	}
	if _, err := w.WriteString("\n}\n"); err != nil {
		return err
	}
	return w.Flush()
}

// loadOne writes the JSON value of category n, of size bytes by the manifest.
func (a *app) loadOne(ctx context.Context, s *session, w io.Writer, n string, size uint64) error {
	if size <= loadInline {
		var buf bytes.Buffer
		if err := s.c.Get(ctx, n, &buf); err != nil {
			return err
		}
		b := buf.Bytes()
		switch kindOf(b) {
		case kindJSON:
			var ind bytes.Buffer
			if err := json.Indent(&ind, b, "  ", "  "); err != nil {
				return err
			}
			_, err := w.Write(bytes.TrimSpace(ind.Bytes()))
			return err
		case kindText:
			return writeText(w, func(tw io.Writer) error { return writeJSONString(tw, b) })
		}
		return writeBinary(w, uint64(len(b)))
	}
	// First pass: what is it? It reads, and so authenticates, all of it, binary
	// content too: load reports no category it has not checked.
	c := &classifier{}
	if err := s.c.Get(ctx, n, c); err != nil {
		return err
	}
	kind, total := c.kind(), c.n
	// Second pass: print it, checking that it is what the first pass read.
	// Binary content is read again too, unprinted: the store (an observer of
	// the remote path) sees every large category read twice, whatever it
	// holds, so the number of reads does not tell text from binary.
	again := &classifier{}
	var werr error
	switch kind {
	case kindBinary:
		werr = s.c.Get(ctx, n, again)
	case kindJSON:
		werr = s.c.Get(ctx, n, io.MultiWriter(again, w))
	case kindText:
		werr = writeText(w, func(tw io.Writer) error {
			return s.c.Get(ctx, n, io.MultiWriter(again, jsonStringWriter{tw}))
		})
	}
	if werr != nil {
		return werr
	}
	if again.kind() != kind || again.n != total {
		return fmt.Errorf("the category changed while it was being read; the output is incomplete, run load again: %w", domain.ErrConflict)
	}
	if kind == kindBinary {
		return writeBinary(w, total)
	}
	return nil
}

// writeText writes a JSON string whose content body writes, unquoted.
func writeText(w io.Writer, body func(io.Writer) error) error {
	if _, err := io.WriteString(w, `"`); err != nil {
		return err
	}
	if err := body(w); err != nil {
		return err
	}
	_, err := io.WriteString(w, `"`)
	return err
}

func writeBinary(w io.Writer, size uint64) error {
	_, err := fmt.Fprintf(w, `{"binary": true, "size": %d}`, size)
	return err
}

// jsonStringWriter escapes what it is given for the inside of a JSON string.
type jsonStringWriter struct{ w io.Writer }

func (j jsonStringWriter) Write(p []byte) (int, error) {
	if err := writeJSONString(j.w, p); err != nil {
		return 0, err
	}
	return len(p), nil
}
