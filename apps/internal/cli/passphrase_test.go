package cli

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestCheckStrength(t *testing.T) {
	random := make([]byte, 7500)
	_, _ = rand.Read(random)
	cases := []struct {
		pass      string
		allowWeak bool
		why       string // "" when accepted
	}{
		{"harbor violet tractor seventeen", false, ""},
		{"abc", false, "it contains a sequence such as abc or 123"},
		{"x", false, "it is too short"},
		{"password123", false, "it is or contains a common password"},
		{"zxcvbnm,./", false, "it contains a keyboard pattern"},
		{"abc", true, ""},
		// Long passphrases are judged by their first maxScored runes, at once.
		{base64.StdEncoding.EncodeToString(random), false, ""},
		{strings.Repeat("a", 10000), false, "it repeats characters"},
	}
	for _, c := range cases {
		err := checkStrength([]byte(c.pass), c.allowWeak)
		name := c.pass[:min(len(c.pass), 40)]
		if c.why == "" {
			if err != nil {
				t.Errorf("checkStrength(%q, %v) = %v, want nil", name, c.allowWeak, err)
			}
			continue
		}
		var u *usageError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), c.why) || !strings.Contains(err.Error(), "--allow-weak-passphrase") {
			t.Errorf("checkStrength(%q) = %v, want a usage error saying %q", name, err, c.why)
		}
	}
}

func TestCrackTime(t *testing.T) {
	for _, c := range []struct {
		s    float64
		want string
	}{{0.5, "less than a second"}, {42, "42 seconds"}, {600, "10 minutes"}, {7200, "2 hours"}, {86400 * 3, "3 days"}, {3.15576e9, "100 years"}} {
		if got := crackTime(c.s); got != c.want {
			t.Errorf("crackTime(%v) = %q, want %q", c.s, got, c.want)
		}
	}
}
