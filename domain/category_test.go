package domain

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateCategory(t *testing.T) {
	for _, ok := range []string{"contacts", "a/b", "..", "../../etc/passwd", "日記", " ", strings.Repeat("x", MaxCategoryLen)} {
		if err := ValidateCategory(ok); err != nil {
			t.Errorf("ValidateCategory(%q) = %v, want nil", ok, err)
		}
	}
	bad := map[string]string{
		"":                                    "empty",
		"a\x00b":                              "NUL",
		strings.Repeat("x", 10*1000):          "is 10000 bytes",
		string([]byte{0xff, 0xfe}):            "UTF-8",
		strings.Repeat("x", MaxCategoryLen+1): "limit",
	}
	for name, want := range bad {
		err := ValidateCategory(name)
		if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateCategory(%.20q) = %v, want ErrInvalidInput mentioning %q", name, err, want)
		}
	}
}
