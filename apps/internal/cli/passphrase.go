package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// passSource says where one passphrase comes from: a file, an environment
// variable, or else a prompt on the terminal.
type passSource struct {
	file    string // flag value (--passphrase-file, --new-passphrase-file)
	fileOpt string // its flag name, for messages
	env     string // environment variable holding the passphrase itself
	prompt  string
}

// passphrase returns the passphrase of src. On a prompt it asks twice when
// confirm is set. It never echoes.
func (a *app) passphrase(src passSource, confirm bool) ([]byte, error) {
	if src.file != "" {
		b, err := os.ReadFile(src.file)
		if err != nil {
			return nil, wrapErr("passphrase file", err)
		}
		b = bytes.TrimRight(b, "\r\n")
		if len(b) == 0 {
			return nil, usageErrorf("the passphrase file %s is empty", src.file)
		}
		return b, nil
	}
	if v, ok := a.lookupEnv(src.env); ok {
		if v == "" {
			return nil, usageErrorf("%s is set but empty", src.env)
		}
		return []byte(v), nil
	}
	f, ok := a.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, usageErrorf("no passphrase: give --%s or %s, or run on a terminal to be asked", src.fileOpt, src.env)
	}
	p, err := a.readPass(f, src.prompt+": ")
	if err != nil {
		return nil, err
	}
	if len(p) == 0 {
		return nil, usageErrorf("the passphrase is empty")
	}
	if confirm {
		q, err := a.readPass(f, "Repeat "+lowerFirst(src.prompt)+": ")
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(p, q) {
			return nil, usageErrorf("the passphrases do not match")
		}
	}
	return p, nil
}

func (a *app) readPass(f *os.File, prompt string) ([]byte, error) {
	fmt.Fprint(a.stderr, prompt)
	p, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(a.stderr)
	if err != nil && err != io.EOF {
		return nil, wrapErr("read passphrase", err)
	}
	return p, nil
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}
