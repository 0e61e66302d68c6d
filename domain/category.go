package domain

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxCategoryLen is the longest category name, in bytes.
const MaxCategoryLen = 1024

// ValidateCategory checks a category name. Any UTF-8 text from 1 to MaxCategoryLen
// bytes is allowed except NUL: names only ever live inside the encrypted manifest,
// never in a path or an object name, so "/" and ".." are ordinary characters.
func ValidateCategory(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: category name is empty", ErrInvalidInput)
	case len(name) > MaxCategoryLen:
		return fmt.Errorf("%w: category name is %d bytes, the limit is %d", ErrInvalidInput, len(name), MaxCategoryLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: category name is not valid UTF-8", ErrInvalidInput)
	case strings.IndexByte(name, 0) >= 0:
		return fmt.Errorf("%w: category name contains a NUL byte", ErrInvalidInput)
	}
	return nil
}
