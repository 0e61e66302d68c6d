package privacypass

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

type rfc9577File struct {
	Tokens []struct {
		Comment           string   `json:"comment"`
		TokenType         uint16   `json:"token_type"`
		IssuerName        hexBytes `json:"issuer_name"`
		RedemptionContext hexBytes `json:"redemption_context"`
		OriginInfo        hexBytes `json:"origin_info"`
		Nonce             hexBytes `json:"nonce"`
		TokenKeyID        hexBytes `json:"token_key_id"`
		AuthInput         hexBytes `json:"token_authenticator_input"`
	} `json:"tokens"`
	Headers []struct {
		Comment    string `json:"comment"`
		Header     string `json:"WWW-Authenticate"`
		Challenges []struct {
			TokenType      uint16   `json:"token_type"`
			TokenKey       hexBytes `json:"token_key"`
			MaxAge         int      `json:"max_age"`
			TokenChallenge hexBytes `json:"token_challenge"`
		} `json:"challenges"`
	} `json:"headers"`
}

func TestRFC9577TokenVectors(t *testing.T) {
	var f rfc9577File
	loadJSON(t, "rfc9577.json", &f)
	if len(f.Tokens) != 5 {
		t.Fatalf("%d token vectors", len(f.Tokens))
	}
	// The vectors use the RFC 9578 type 2 key: its id must match.
	var v9578 = loadRFC9578(t)
	kid := KeyID(v9578[len(v9578)-1].PkS)
	for _, v := range f.Tokens {
		t.Run(v.Comment, func(t *testing.T) {
			if !bytes.Equal(v.TokenKeyID, kid[:]) {
				t.Fatalf("token_key_id %x is not SHA-256 of the RFC 9578 key (%x)", v.TokenKeyID, kid)
			}
			ch := &TokenChallenge{TokenType: TokenType(v.TokenType), IssuerName: string(v.IssuerName), RedemptionContext: v.RedemptionContext, OriginInfo: string(v.OriginInfo)}
			enc, err := ch.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseTokenChallenge(enc)
			if err != nil {
				t.Fatal(err)
			}
			if back.IssuerName != ch.IssuerName || back.OriginInfo != ch.OriginInfo || !bytes.Equal(back.RedemptionContext, ch.RedemptionContext) {
				t.Fatal("challenge round trip differs")
			}
			tok := Token{TokenType: ch.TokenType, ChallengeDigest: ChallengeDigest(enc)}
			copy(tok.Nonce[:], v.Nonce)
			copy(tok.KeyID[:], v.TokenKeyID)
			if got := tok.AuthenticatorInput(); !bytes.Equal(got, v.AuthInput) {
				t.Fatalf("token_authenticator_input\n got %x\nwant %x", got, v.AuthInput)
			}
		})
	}
}

func TestRFC9577HeaderVectors(t *testing.T) {
	var f rfc9577File
	loadJSON(t, "rfc9577.json", &f)
	for _, v := range f.Headers {
		t.Run(v.Comment, func(t *testing.T) {
			got, err := ParseWWWAuthenticate(v.Header)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(v.Challenges) {
				t.Fatalf("%d challenges, want %d", len(got), len(v.Challenges))
			}
			var want []Challenge
			for i, c := range v.Challenges {
				if !bytes.Equal(got[i].TokenChallenge, c.TokenChallenge) || !bytes.Equal(got[i].TokenKey, c.TokenKey) || got[i].MaxAge != c.MaxAge {
					t.Fatalf("challenge %d: got %+v", i, got[i])
				}
				ch, err := ParseTokenChallenge(got[i].TokenChallenge)
				if err != nil || ch.TokenType != TokenType(c.TokenType) {
					t.Fatalf("challenge %d: %v, type %v", i, err, ch)
				}
				want = append(want, Challenge{TokenChallenge: c.TokenChallenge, TokenKey: c.TokenKey, MaxAge: c.MaxAge})
			}
			// What we format parses back to the same challenges.
			again, err := ParseWWWAuthenticate(FormatWWWAuthenticate(want...))
			if err != nil {
				t.Fatal(err)
			}
			for i := range again {
				if !bytes.Equal(again[i].TokenChallenge, want[i].TokenChallenge) || !bytes.Equal(again[i].TokenKey, want[i].TokenKey) || again[i].MaxAge != want[i].MaxAge {
					t.Fatalf("round trip of challenge %d differs", i)
				}
			}
		})
	}
}

func TestParseWWWAuthenticate(t *testing.T) {
	ch := testChallenge(t, TypeBlindRSA)
	good := FormatWWWAuthenticate(Challenge{TokenChallenge: ch, TokenKey: []byte{1, 2, 3, 4, 5}, MaxAge: -1})
	b64 := good[len(`PrivateToken challenge="`):strings.Index(good, `", `)]
	unpadded := strings.TrimRight(b64, "=")
	ok := []struct {
		name, header string
		count        int
	}{
		{"Formatted", good, 1},
		{"Unpadded", `PrivateToken challenge="` + unpadded + `"`, 1},
		{"Unquoted", `PrivateToken challenge=` + unpadded, 1},
		{"CaseInsensitive", `privatetoken Challenge="` + b64 + `", MAX-AGE=5`, 1},
		{"OtherSchemes", `Basic realm="x", Bearer abc==, PrivateToken challenge="` + b64 + `", Negotiate`, 1},
		{"Escapes", `PrivateToken challenge="` + b64 + `", realm="a \"quoted\" realm"`, 1},
		{"NoPrivateToken", `Basic realm="x"`, 0},
		{"ExtraCommas", ` , PrivateToken challenge="` + b64 + `" ,, `, 1},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseWWWAuthenticate(tc.header)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.count {
				t.Fatalf("%d challenges, want %d", len(got), tc.count)
			}
			if tc.count == 1 && !bytes.Equal(got[0].TokenChallenge, ch) {
				t.Fatal("challenge differs")
			}
		})
	}
	bad := []struct{ name, header string }{
		{"Empty", ""},
		{"Unterminated", `PrivateToken challenge="` + b64},
		{"BadEscapeAtEnd", `PrivateToken challenge="abc\`},
		{"ControlInQuotes", "PrivateToken challenge=\"ab\x01c\""},
		{"NoChallenge", `PrivateToken token-key="AAAA"`},
		{"DuplicateChallenge", `PrivateToken challenge="` + b64 + `", challenge="` + b64 + `"`},
		{"StandardBase64", `PrivateToken challenge="` + strings.ReplaceAll(strings.ReplaceAll(b64, "-", "+"), "_", "/") + `+/"`},
		{"NotBase64", `PrivateToken challenge="!!!!"`},
		{"BadPadding", `PrivateToken challenge="` + unpadded + `==="`},
		{"NotAChallenge", `PrivateToken challenge="AAAA"`},
		{"BadMaxAge", `PrivateToken challenge="` + b64 + `", max-age="ten"`},
		{"NegativeMaxAge", `PrivateToken challenge="` + b64 + `", max-age=-1`},
		{"Token68", `PrivateToken abc=`},
		{"GarbageAfterValue", `PrivateToken challenge="` + b64 + `"x`},
		{"MissingValue", `PrivateToken challenge=`},
		{"StrayEquals", `=abc`},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := ParseWWWAuthenticate(tc.header); !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseWWWAuthenticate(%q) = %v, %v; want ErrMalformed", tc.header, got, err)
			}
		})
	}
}

func TestAuthorization(t *testing.T) {
	tok := bytes.Repeat([]byte{0xfb}, 354)
	h := FormatAuthorization(tok)
	if !strings.HasPrefix(h, `PrivateToken token="`) {
		t.Fatal(h)
	}
	got, err := ParseAuthorization(h)
	if err != nil || !bytes.Equal(got, tok) {
		t.Fatalf("round trip: %v", err)
	}
	if got, err := ParseAuthorization(h + `, extension="ignored"`); err != nil || !bytes.Equal(got, tok) {
		t.Fatalf("unknown parameter: %v", err)
	}
	for _, bad := range []string{"", "PrivateToken", `Bearer token="AAAA"`, `PrivateToken token="AA AA"`, `PrivateToken token="+/+/"`,
		`PrivateToken token="AAAA", PrivateToken token="AAAA"`, `PrivateToken token=""`, `PrivateToken token="AAAA`} {
		if _, err := ParseAuthorization(bad); !errors.Is(err, ErrMalformed) {
			t.Fatalf("ParseAuthorization(%q) = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestStructureDecoders(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func([]byte) error
		in   []byte
	}{
		{"ChallengeEmptyIssuer", func(b []byte) error { _, err := ParseTokenChallenge(b); return err }, []byte{0, 2, 0, 0, 0, 0, 0}},
		{"ChallengeContext16", func(b []byte) error { _, err := ParseTokenChallenge(b); return err }, append([]byte{0, 2, 0, 1, 'a', 16}, make([]byte, 18)...)},
		{"ChallengeTrailing", func(b []byte) error { _, err := ParseTokenChallenge(b); return err }, []byte{0, 2, 0, 1, 'a', 0, 0, 0, 9}},
		{"ChallengeTruncated", func(b []byte) error { _, err := ParseTokenChallenge(b); return err }, []byte{0, 2, 0, 5, 'a'}},
		{"RequestShort", func(b []byte) error { _, err := ParseTokenRequest(b); return err }, []byte{0, 1}},
		{"TokenShort", func(b []byte) error { _, err := ParseToken(b); return err }, []byte{0, 2, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.fn(tc.in); !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v, want ErrMalformed", err)
			}
		})
	}
	if _, err := (&TokenChallenge{TokenType: 2, IssuerName: "i", RedemptionContext: make([]byte, 5)}).MarshalBinary(); !errors.Is(err, ErrMalformed) {
		t.Fatal("bad redemption context encoded")
	}
}

func TestDirectory(t *testing.T) {
	rsaKey, voprfKey := testKeys(t)
	nb := time.Unix(1_700_000_000, 0).UTC()
	d := &Directory{IssuerRequestURI: "https://issuer.example/request", TokenKeys: []DirectoryKey{
		{TokenType: TypeBlindRSA, TokenKey: rsaKey.TokenKey(), NotBefore: nb},
		{TokenType: TypeVOPRF, TokenKey: voprfKey.TokenKey()},
	}}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"not-before":1700000000`) || !strings.Contains(string(b), `"token-type":2`) {
		t.Fatalf("directory JSON: %s", b)
	}
	back, err := ParseDirectory(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.TokenKeys) != 2 || !bytes.Equal(back.TokenKeys[0].TokenKey, rsaKey.TokenKey()) || !back.TokenKeys[0].NotBefore.Equal(nb) || !back.TokenKeys[1].NotBefore.IsZero() {
		t.Fatalf("round trip: %+v", back)
	}
	if k, err := back.Key(TypeBlindRSA, nb); err != nil || !bytes.Equal(k.TokenKey, rsaKey.TokenKey()) {
		t.Fatalf("Key: %v", err)
	}
	if _, err := back.Key(TypeBlindRSA, nb.Add(-time.Second)); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("key before not-before: %v", err)
	}
	// The RFC's example form (with an unknown member) parses.
	if _, err := ParseDirectory([]byte(`{"issuer-request-uri":"/request","token-keys":[{"token-type":2,"token-key":"AAAA"}],"extra":1}`)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{``, `[]`, `{}`, `{"issuer-request-uri":"x"}`, `{"token-keys":[]}`,
		`{"issuer-request-uri":"x","token-keys":[{"token-type":2}]}`,
		`{"issuer-request-uri":"x","token-keys":[{"token-type":2,"token-key":"a+/="}]}`,
		`{"issuer-request-uri":"x","token-keys":[{"token-type":70000,"token-key":"AAAA"}]}`,
		`{"issuer-request-uri":"x","token-keys":[{"token-type":2,"token-key":"AAAA","not-before":-1}]}`,
		`{"issuer-request-uri":"x","token-keys":[]} {}`,
	} {
		if _, err := ParseDirectory([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Fatalf("ParseDirectory(%s) = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestKeyStore(t *testing.T) {
	dir := t.TempDir() + "/keys"
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	ks, err := OpenKeyStore(dir, &KeyStoreOptions{Create: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	k1, err := ks.Current(TypeVOPRF)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := ks.Current(TypeVOPRF); again.ID() != k1.ID() {
		t.Fatal("Current generated a second key")
	}
	fi, err := os.Stat(dir + "/" + k1.IDHex() + ".key")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", err, fi)
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
		t.Fatalf("key dir mode %v", di.Mode().Perm())
	}
	// Rotation: a key announced for later is listed after the current one and
	// becomes current at its not-before.
	k2, err := ks.Rotate(TypeVOPRF, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if k2.ID()[KeyIDSize-1] == k1.ID()[KeyIDSize-1] {
		t.Fatal("truncated key ids collide")
	}
	d, err := ks.Directory("/request")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.TokenKeys) != 2 || !bytes.Equal(d.TokenKeys[0].TokenKey, k1.TokenKey()) || !d.TokenKeys[1].NotBefore.Equal(now.Add(time.Hour)) {
		t.Fatalf("directory order: %+v", d.TokenKeys)
	}
	// Reopen: the keys load from disk.
	now = now.Add(2 * time.Hour)
	ks2, err := OpenKeyStore(dir, &KeyStoreOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := ks2.Current(TypeVOPRF)
	if err != nil || cur.ID() != k2.ID() {
		t.Fatalf("current after rotation: %v %v", cur, err)
	}
	if err := ks2.Retire(k1.ID()); err != nil {
		t.Fatal(err)
	}
	if keys, _ := ks2.Keys(); len(keys) != 1 {
		t.Fatalf("%d keys after retiring one", len(keys))
	}
	if err := ks2.Retire(k1.ID()); err == nil {
		t.Fatal("retired twice")
	}
	// A key file readable by others is refused.
	if err := os.Chmod(dir+"/"+k2.IDHex()+".key", 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenKeyStore(dir, nil); err == nil {
		t.Fatal("opened a key store with a world-readable key")
	}
}
