package secret_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/ai-pantheon/aegis/crypto/secret"
)

var material = []byte("SUPER-SECRET-KEY-MATERIAL-123456")

// leaks reports the first encoding of material found in out.
func leaks(out string) (string, bool) {
	forms := map[string]string{
		"raw":     string(material),
		"hex":     hex.EncodeToString(material),
		"HEX":     strings.ToUpper(hex.EncodeToString(material)),
		"base64":  base64.StdEncoding.EncodeToString(material),
		"decimal": strings.Trim(fmt.Sprint(material), "[]"),
		"prefix":  "SUPER-SECRET",
		"hexpre":  hex.EncodeToString(material[:6]),
	}
	for name, f := range forms {
		if strings.Contains(out, f) {
			return name, true
		}
	}
	return "", false
}

type holder struct {
	name string
	key  *secret.Key // unexported: fmt prints it by reflection
	val  secret.Key  // a copy by value, also unexported
}

type Exported struct {
	Name string
	Key  *secret.Key
	Val  secret.Key
}

func TestFormattingNeverRevealsBytes(t *testing.T) {
	k := secret.New(material)
	h := holder{name: "h", key: k, val: *k}
	e := Exported{Name: "e", Key: k, Val: *k}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d", "%T", "%10.3s", "%-40x", "% x", "%#x", "%p"}
	values := map[string]any{"ptr": k, "value": *k, "holder": h, "&holder": &h, "exported": e, "&exported": &e, "slice": []*secret.Key{k}}
	for vname, v := range values {
		for _, verb := range verbs {
			out := fmt.Sprintf(verb, v)
			if form, bad := leaks(out); bad {
				t.Errorf("Sprintf(%q, %s) = %q leaks the key (%s form)", verb, vname, out, form)
			}
		}
		for name, out := range map[string]string{"Sprint": fmt.Sprint(v), "Sprintln": fmt.Sprintln(v)} {
			if form, bad := leaks(out); bad {
				t.Errorf("%s(%s) = %q leaks the key (%s form)", name, vname, out, form)
			}
		}
	}
}

func TestRedactedForms(t *testing.T) {
	k := secret.New(material)
	want := "secret.Key(32 bytes, redacted)"
	for _, got := range []string{k.String(), k.GoString(), fmt.Sprintf("%v", k), fmt.Sprintf("%#v", k), fmt.Sprintf("%x", k), fmt.Sprintf("%q", k)} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	var zero secret.Key
	if got := zero.String(); got != "secret.Key(nil)" {
		t.Errorf("zero key String() = %q", got)
	}
	if got := fmt.Sprint(*k); got != want {
		t.Errorf("Sprint(Key value) = %q, want %q", got, want)
	}
	k.Destroy()
	if got := k.String(); got != "secret.Key(destroyed)" {
		t.Errorf("destroyed key String() = %q", got)
	}
}

func TestMarshalNeverRevealsBytes(t *testing.T) {
	k := secret.New(material)
	for name, v := range map[string]any{"key": k, "exported": Exported{Name: "e", Key: k, Val: *k}, "map": map[string]*secret.Key{"k": k}} {
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal(%s): %v", name, err)
		}
		if form, bad := leaks(string(out)); bad {
			t.Errorf("json.Marshal(%s) = %s leaks the key (%s form)", name, out, form)
		}
	}
	out, err := json.Marshal(k)
	if err != nil || string(out) != `"secret.Key(32 bytes, redacted)"` {
		t.Errorf("json.Marshal(key) = %s, %v", out, err)
	}
	text, err := k.MarshalText()
	if err != nil || string(text) != "secret.Key(32 bytes, redacted)" {
		t.Errorf("MarshalText() = %q, %v", text, err)
	}
}

func TestSlogNeverRevealsBytes(t *testing.T) {
	k := secret.New(material)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "key", k, "holder", Exported{Key: k})
	slog.New(slog.NewTextHandler(&buf, nil)).Info("m", "key", k, "holder", Exported{Key: k})
	if form, bad := leaks(buf.String()); bad {
		t.Errorf("slog output %q leaks the key (%s form)", buf.String(), form)
	}
}

func TestNewCopies(t *testing.T) {
	b := bytes.Clone(material)
	k := secret.New(b)
	clear(b)
	if !bytes.Equal(k.Bytes(), material) {
		t.Fatal("New did not copy its input")
	}
	if k.Len() != len(material) {
		t.Fatalf("Len() = %d", k.Len())
	}
}

func TestRandom(t *testing.T) {
	a, b := secret.Random(32), secret.Random(32)
	if a.Len() != 32 || b.Len() != 32 {
		t.Fatalf("lengths %d, %d", a.Len(), b.Len())
	}
	if bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two random keys are equal")
	}
	if bytes.Equal(a.Bytes(), make([]byte, 32)) {
		t.Fatal("random key is all zero")
	}
	if secret.Random(0).Len() != 0 {
		t.Fatal("Random(0) is not empty")
	}
	mustPanic(t, "Random(-1)", func() { secret.Random(-1) })
}

func TestDestroyZeroesBackingArray(t *testing.T) {
	k := secret.New(material)
	backing := k.Bytes() // aliases the key's storage
	if k.Destroyed() {
		t.Fatal("fresh key reports destroyed")
	}
	k.Destroy()
	if !bytes.Equal(backing, make([]byte, len(material))) {
		t.Fatalf("backing array not zeroed: %x", backing)
	}
	if !k.Destroyed() {
		t.Fatal("Destroyed() = false after Destroy")
	}
	k.Destroy() // idempotent
	var nilKey *secret.Key
	nilKey.Destroy() // no panic
}

func TestUseAfterDestroyPanics(t *testing.T) {
	k := secret.Random(16)
	k.Destroy()
	msg := mustPanic(t, "Bytes after Destroy", func() { k.Bytes() })
	if !strings.Contains(msg, "destroyed") {
		t.Errorf("panic message %q does not say the key was destroyed", msg)
	}
	mustPanic(t, "Len after Destroy", func() { k.Len() })
	var zero secret.Key
	mustPanic(t, "Bytes of zero Key", func() { zero.Bytes() })
}

func mustPanic(t *testing.T, what string, f func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Errorf("%s did not panic", what)
		}
		msg = fmt.Sprint(r)
	}()
	f()
	return ""
}

func ExampleKey() {
	k := secret.New([]byte("0123456789abcdef0123456789abcdef"))
	defer k.Destroy()
	fmt.Println(k)
	fmt.Printf("%x\n", k)
	// Output:
	// secret.Key(32 bytes, redacted)
	// secret.Key(32 bytes, redacted)
}
