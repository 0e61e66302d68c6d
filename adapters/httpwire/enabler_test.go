package httpwire

import (
	"strings"
	"testing"

	"github.com/ai-pantheon/aegis/domain"
)

func TestWriteEnablerRoundTrip(t *testing.T) {
	var e domain.WriteEnabler
	for i := range e {
		e[i] = byte(i*7 + 250)
	}
	s := FormatWriteEnabler(e)
	if len(s) != 43 || strings.ContainsAny(s, "=+/") {
		t.Fatalf("FormatWriteEnabler = %q, want 43 unpadded base64url characters", s)
	}
	back, ok := ParseWriteEnabler(s)
	if !ok || back != e {
		t.Fatalf("ParseWriteEnabler(%q) = %x, %v", s, back, ok)
	}
}

func TestWriteEnablerRefusals(t *testing.T) {
	good := FormatWriteEnabler(domain.WriteEnabler{1, 2, 3})
	// The last character carries 2 unused bits: "B" sets one of them.
	nonCanonical := good[:42] + "B"
	for _, s := range []string{"", good[:42], good + "A", good + "=", " " + good[1:], good[:42] + "+",
		good[:42] + "/", nonCanonical, strings.Repeat("A", 44)} {
		if _, ok := ParseWriteEnabler(s); ok {
			t.Errorf("ParseWriteEnabler(%q) accepted", s)
		}
	}
}
