package domain

import (
	"errors"
	"strings"
	"testing"
)

func TestObjectIDRoundTrip(t *testing.T) {
	id, err := NewObjectID(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := id.String()
	if len(s) != 64 || strings.ToLower(s) != s {
		t.Fatalf("String() = %q", s)
	}
	back, err := ParseObjectID(s)
	if err != nil || back != id {
		t.Fatalf("ParseObjectID(%q) = %v, %v", s, back, err)
	}
	other, _ := NewObjectID(nil)
	if other == id {
		t.Fatal("two random ids are equal")
	}
}

func TestParseObjectIDRejects(t *testing.T) {
	good := strings.Repeat("ab", 32)
	for _, s := range []string{"", good[:63], good + "0", strings.ToUpper(good), "../" + good[3:], good[:62] + "/x", good[:63] + "g", good[:63] + "\x00"} {
		if _, err := ParseObjectID(s); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("ParseObjectID(%q) err = %v", s, err)
		}
	}
}
