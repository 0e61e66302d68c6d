package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/ccojocar/zxcvbn-go"
	"github.com/ccojocar/zxcvbn-go/match"
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
			why := err
			var pe *fs.PathError
			if errors.As(err, &pe) {
				why = pe.Err
			}
			return nil, usageErrorf("cannot read the passphrase file %s (--%s): %v", src.file, src.fileOpt, why)
		}
		a.warnMode(src)
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

// warnMode warns on standard error when the passphrase file of src may be
// read by its group or by others.
func (a *app) warnMode(src passSource) {
	fi, err := os.Stat(src.file)
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return
	}
	fmt.Fprintf(a.stderr, "aegis: warning: the passphrase file %s (--%s) can be read by other users (mode %04o): run chmod 600 %s\n",
		src.file, src.fileOpt, fi.Mode().Perm(), src.file)
}

// MinPassphraseScore is the lowest zxcvbn score (0 to 4) a new passphrase may
// have: 3 means an estimated 10^6 seconds or more for an attacker guessing
// 10,000 a second (10^10 guesses), which the vault header's slow KDF stretches
// to years; 2 and below fall within days.
const MinPassphraseScore = 3

// allowWeakFlag is the flag of init and passwd that accepts a passphrase
// below MinPassphraseScore.
const allowWeakFlag = "allow-weak-passphrase"

// maxScored bounds the runes of a passphrase zxcvbn looks at: its matching
// grows faster than the square of the length, so a long input would take
// seconds to minutes. A longer passphrase is judged by its start, which gives fewer
// guesses than the whole.
const maxScored = 100

// checkStrength refuses a new passphrase whose zxcvbn score is below
// MinPassphraseScore, saying why, unless allowWeak is set.
func checkStrength(pass []byte, allowWeak bool) error {
	if allowWeak {
		return nil
	}
	scored := []rune(string(pass))
	scored = scored[:min(len(scored), maxScored)]
	r := zxcvbn.PasswordStrength(string(scored), nil)
	if r.Score >= MinPassphraseScore {
		return nil
	}
	return usageErrorf("the new passphrase is too weak (zxcvbn score %d of 4, want %d or more): %s; "+
		"guessing at 10,000 a second would find it in %s. Choose a longer one, several unrelated words for example, or give --%s",
		r.Score, MinPassphraseScore, weakness(r.MatchSequence), crackTime(r.CrackTime), allowWeakFlag)
}

// weakness says what makes a passphrase guessable, from the patterns zxcvbn
// found in it.
func weakness(seq []match.Match) string {
	var why []string
	add := func(s string) {
		if !slices.Contains(why, s) {
			why = append(why, s)
		}
	}
	for _, m := range seq {
		switch m.Pattern {
		case "dictionary":
			switch {
			case m.DictionaryName == "Passwords":
				add("it is or contains a common password")
			case strings.Contains(m.DictionaryName, "Names"), m.DictionaryName == "Surname":
				add("it contains a common name")
			default:
				add("it contains a common word")
			}
		case "spatial":
			add("it contains a keyboard pattern")
		case "repeat":
			add("it repeats characters")
		case "sequence":
			add("it contains a sequence such as abc or 123")
		case "date":
			add("it contains a date or year")
		}
	}
	if len(why) == 0 {
		return "it is too short"
	}
	return strings.Join(why, ", ")
}

// crackTime is a duration of seconds in words.
func crackTime(seconds float64) string {
	const minute, hour, day, year = 60.0, 3600.0, 86400.0, 365.25 * 86400
	switch {
	case seconds < 1:
		return "less than a second"
	case seconds < minute:
		return fmt.Sprintf("%.0f seconds", seconds)
	case seconds < hour:
		return fmt.Sprintf("%.0f minutes", seconds/minute)
	case seconds < day:
		return fmt.Sprintf("%.0f hours", seconds/hour)
	case seconds < year:
		return fmt.Sprintf("%.0f days", seconds/day)
	}
	return fmt.Sprintf("%.0f years", seconds/year)
}

func (a *app) readPass(f *os.File, prompt string) ([]byte, error) {
	fd := int(f.Fd())
	state, err := term.GetState(fd)
	if err != nil {
		return nil, wrapErr("read passphrase", err)
	}
	fmt.Fprint(a.stderr, prompt)
	type read struct {
		p   []byte
		err error
	}
	got := make(chan read, 1)
	go func() {
		p, err := term.ReadPassword(fd)
		got <- read{p, err}
	}()
	select {
	case r := <-got:
		fmt.Fprintln(a.stderr)
		if r.err != nil && r.err != io.EOF {
			return nil, wrapErr("read passphrase", r.err)
		}
		return r.p, nil
	case <-a.ctx.Done():
		// Ctrl-C: ReadPassword would put the echo back only after a line
		// that is not coming, so restore the terminal here; the process
		// exits with the pending read abandoned.
		_ = term.Restore(fd, state)
		fmt.Fprintln(a.stderr)
		return nil, a.ctx.Err()
	}
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}
