package privacypass

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
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

// valueForm is one way a client writes a base64url attribute value.
type valueForm struct {
	name, value string
	quoted      bool
}

// valueForms returns b as an attribute value in the four forms clients send:
// quoted or not, base64url padded or not (FormatAuthorization writes the first,
// privacypass-ts the second).
func valueForms(b []byte) []valueForm {
	padded, raw := base64.URLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b)
	return []valueForm{
		{"QuotedPadded", `"` + padded + `"`, true},
		{"UnquotedPadded", padded, false},
		{"QuotedUnpadded", `"` + raw + `"`, true},
		{"UnquotedUnpadded", raw, false},
	}
}

// TestAuthorizationForms: a token parses to the same bytes in each of the four
// value forms, with one, two or no padding characters, around white space,
// whatever the case of the scheme and attribute names.
func TestAuthorizationForms(t *testing.T) {
	for _, n := range []int{146, 145, 354} { // a type 1 token (one '='), two '=', a type 2 token (none)
		tok := bytes.Repeat([]byte{0xfb, 0xef, 0x01}, n)[:n]
		for _, f := range valueForms(tok) {
			for _, layout := range []struct{ name, header string }{
				{"Plain", "PrivateToken token=" + f.value},
				{"Whitespace", " \t PrivateToken  \t token \t= \t" + f.value + " \t "},
				{"LowerCaseScheme", "privatetoken token=" + f.value},
				{"UpperCase", "PRIVATETOKEN TOKEN=" + f.value},
				{"UnknownAttributeAfter", "PrivateToken token=" + f.value + `,extensions=AAEC==, x="y"`},
				{"UnknownAttributeBefore", "PrivateToken x=y==, token=" + f.value},
				{"ListSeparators", " , PrivateToken token=" + f.value + " ,, "},
			} {
				t.Run(sprintf("%d/%s/%s", n, f.name, layout.name), func(t *testing.T) {
					got, err := ParseAuthorization(layout.header)
					if err != nil {
						t.Fatalf("ParseAuthorization(%.60q…): %v", layout.header, err)
					}
					if !bytes.Equal(got, tok) {
						t.Fatalf("token differs:\n got %x\nwant %x", got, tok)
					}
				})
			}
		}
	}
}

// TestAuthorizationMalformed: what is not one PrivateToken credential with one
// base64url token is refused, whether quoted or not.
func TestAuthorizationMalformed(t *testing.T) {
	tok := bytes.Repeat([]byte{0xfb, 0xff}, 73) // 146 bytes: base64 with '+', '/' and one '='
	std := base64.StdEncoding.EncodeToString(tok)
	if !strings.ContainsAny(std, "+/") {
		t.Fatal("the standard encoding of the test token has neither '+' nor '/'")
	}
	b64 := base64.URLEncoding.EncodeToString(tok)
	for _, tc := range []struct{ name, header, why string }{
		{"StandardAlphabetQuoted", `PrivateToken token="` + std + `"`, "standard base64"},
		{"StandardAlphabetUnquoted", `PrivateToken token=` + std, "standard base64"},
		{"PlusUnquoted", `PrivateToken token=` + strings.ReplaceAll(b64, "-", "+"), "standard base64"},
		{"TooMuchPadding", `PrivateToken token=` + b64 + `=`, "not base64url"},
		{"TooMuchPaddingQuoted", `PrivateToken token="` + b64 + `=="`, "not base64url"},
		{"PaddingInside", `PrivateToken token=` + b64[:8] + `=` + b64[8:], "unexpected"},
		{"PaddingOnly", `PrivateToken token===`, "token attribute"},
		{"PaddingBeforeValue", `PrivateToken token==` + b64, "no value"},
		{"Empty", `PrivateToken token=""`, "empty"},
		{"Missing", `PrivateToken token=`, "token attribute"},
		{"SpaceInside", `PrivateToken token=` + b64[:8] + ` ` + b64[8:], "unexpected"},
		{"SpaceInsideQuoted", `PrivateToken token="` + b64[:8] + ` ` + b64[8:] + `"`, "not base64url"},
		{"StrayAfter", `PrivateToken token=` + b64 + `"`, "unexpected"},
		{"Duplicated", `PrivateToken token=` + b64 + `, token=` + b64, "repeated"},
		{"DuplicatedOtherCase", `PrivateToken token=` + b64 + `, TOKEN="` + b64 + `"`, "repeated"},
		{"TwoCredentials", `PrivateToken token=` + b64 + `, PrivateToken token=` + b64, "exactly one"},
		{"Token68", `PrivateToken ` + b64, "token attribute"},
		{"OtherScheme", `Bearer token=` + b64, "exactly one PrivateToken"},
		{"ControlCharacter", "PrivateToken token=" + b64[:8] + "\x00", "unexpected"},
		{"TrailingBits", `PrivateToken token=AB==`, "not base64url"}, // 'B' leaves bits set
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAuthorization(tc.header)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseAuthorization(%.60q…) = %x, %v; want ErrMalformed", tc.header, got, err)
			}
			if !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("error %q does not say %q", err, tc.why)
			}
		})
	}
}

// TestWWWAuthenticateForms: each attribute of a challenge parses to the same
// value in each form, in several challenges of one header and in the layout
// privacypass-ts writes (no space after the commas, unquoted padded values).
func TestWWWAuthenticateForms(t *testing.T) {
	ch1 := testChallenge(t, TypeVOPRF)                                                         // 44 bytes: one '='
	ch2, _ := (&TokenChallenge{TokenType: TypeBlindRSA, IssuerName: "aegisd"}).MarshalBinary() // 13 bytes: two '='
	key1, key2 := bytes.Repeat([]byte{0xfe}, 49), bytes.Repeat([]byte{0xfb}, 47)               // two '=', one '='
	for _, cf := range valueForms(ch1) {
		for _, kf := range valueForms(key1) {
			for _, maxAge := range []string{`10`, `"10"`} {
				name := sprintf("%s/%s/MaxAge%s", cf.name, kf.name, strings.Trim(maxAge, `"`)+map[bool]string{true: "Quoted", false: ""}[maxAge[0] == '"'])
				t.Run(name, func(t *testing.T) {
					ch2Forms, key2Forms := valueForms(ch2), valueForms(key2)
					for _, h := range []string{
						"PrivateToken challenge=" + cf.value + ", token-key=" + kf.value + ", max-age=" + maxAge,
						"PrivateToken challenge=" + cf.value + ",token-key=" + kf.value + ",max-age=" + maxAge, // privacypass-ts
						" privatetoken Max-Age = " + maxAge + " , TOKEN-KEY= " + kf.value + " ,Challenge =" + cf.value + " ",
					} {
						// A second PrivateToken challenge, in the other forms, and other schemes around.
						for i := range 4 {
							full := `Basic realm="x", ` + h + `, Bearer abc==, PrivateToken challenge=` + ch2Forms[i].value + `, token-key=` + key2Forms[3-i].value + `, Negotiate`
							got, err := ParseWWWAuthenticate(full)
							if err != nil {
								t.Fatalf("ParseWWWAuthenticate(%q): %v", full, err)
							}
							if len(got) != 2 {
								t.Fatalf("%d challenges in %q, want 2", len(got), full)
							}
							if !bytes.Equal(got[0].TokenChallenge, ch1) || !bytes.Equal(got[0].TokenKey, key1) || got[0].MaxAge != 10 {
								t.Fatalf("first challenge of %q: %+v", full, got[0])
							}
							if !bytes.Equal(got[1].TokenChallenge, ch2) || !bytes.Equal(got[1].TokenKey, key2) || got[1].MaxAge != -1 {
								t.Fatalf("second challenge of %q: %+v", full, got[1])
							}
						}
					}
				})
			}
		}
	}
}

// TestWWWAuthenticateMalformedForms: the forms accepted above do not open the
// door to values that are not base64url or not numbers.
func TestWWWAuthenticateMalformedForms(t *testing.T) {
	ch, _ := (&TokenChallenge{TokenType: TypeBlindRSA, IssuerName: "aegisd"}).MarshalBinary()
	b64 := base64.URLEncoding.EncodeToString(ch) // two '='
	for _, tc := range []struct{ name, header, why string }{
		{"ChallengeTooMuchPadding", `PrivateToken challenge=` + b64 + `=`, "not base64url"},
		{"ChallengePaddingInside", `PrivateToken challenge=` + b64[:4] + `=` + b64[4:], "unexpected"},
		{"ChallengeStandardAlphabet", `PrivateToken challenge=` + b64 + `, token-key=AB+/`, "standard base64"},
		{"TokenKeyStandardAlphabetQuoted", `PrivateToken challenge=` + b64 + `, token-key="++//"`, "standard base64"},
		{"TokenKeyDuplicated", `PrivateToken challenge=` + b64 + `, token-key=AAAA, token-key=AAAA`, "repeated"},
		{"ChallengeDuplicatedForms", `PrivateToken challenge=` + b64 + `, challenge="` + strings.TrimRight(b64, "=") + `"`, "repeated"},
		{"MaxAgePadded", `PrivateToken challenge=` + b64 + `, max-age=10=`, "max-age"},
		{"MaxAgeQuotedSpace", `PrivateToken challenge=` + b64 + `, max-age=" 10"`, "max-age"},
		{"StrayAfterPadding", `PrivateToken challenge=` + b64 + `x`, "unexpected"},
		{"NoComma", `PrivateToken challenge=` + b64 + ` token-key=AAAA`, "unexpected"},
		{"EmptyQuoted", `PrivateToken challenge=""`, "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseWWWAuthenticate(tc.header)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseWWWAuthenticate(%q) = %+v, %v; want ErrMalformed", tc.header, got, err)
			}
			if !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("error %q does not say %q", err, tc.why)
			}
		})
	}
}

// formatChallengesAs writes challenges as FormatWWWAuthenticate does, but with
// every base64url value in form i of valueForms, max-age quoted when that form
// is, and sep between attributes ("," is privacypass-ts's layout).
func formatChallengesAs(i int, sep string, cs ...Challenge) string {
	var b strings.Builder
	for n, c := range cs {
		if n > 0 {
			b.WriteString(sep)
		}
		b.WriteString(Scheme + " challenge=" + valueForms(c.TokenChallenge)[i].value)
		if c.TokenKey != nil {
			b.WriteString(sep + "token-key=" + valueForms(c.TokenKey)[i].value)
		}
		if c.MaxAge >= 0 {
			age := strconv.Itoa(c.MaxAge)
			if valueForms(nil)[i].quoted {
				age = `"` + age + `"`
			}
			b.WriteString(sep + "max-age=" + age)
		}
	}
	return b.String()
}

func TestFormatChallengesAs(t *testing.T) {
	ch, _ := (&TokenChallenge{TokenType: TypeBlindRSA, IssuerName: "aegisd"}).MarshalBinary()
	c := Challenge{TokenChallenge: ch, TokenKey: []byte{1, 2, 3, 4}, MaxAge: 7}
	if got, want := formatChallengesAs(0, ", ", c), FormatWWWAuthenticate(c); got != want {
		t.Fatalf("quoted padded form\n got %s\nwant %s", got, want)
	}
	if got, want := formatChallengesAs(1, ",", c), "PrivateToken challenge=AAIABmFlZ2lzZAAAAA==,token-key=AQIDBA==,max-age=7"; got != want {
		t.Fatalf("unquoted padded form\n got %s\nwant %s", got, want)
	}
}

// TestPrivacyPassTSHeaders: headers exactly as privacypass-ts 0.8.1 writes
// them (AuthorizationHeader.toString and WWWAuthenticateHeader.toString, by
// default unquoted, and with quotedString), copied from its output; the
// interop run (scripts/interop.sh) checks the same against a live aegisd.
func TestPrivacyPassTSHeaders(t *testing.T) {
	tok := make([]byte, 2+32+32+32+48) // a type 1 token: one '=' of padding
	tok[1] = 1
	for i := 2; i < len(tok); i++ {
		tok[i] = byte(i * 7)
	}
	const auth = "PrivateToken token=AAEOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK-2vcTL0tng5-71_AMKERgfJi00O0JJUFdeZWxzeoGIj5adpKuyucDHztXc4-rx-P8GDRQbIikwNz5FTFNaYWhvdn2Ei5KZoKeutbzDytHY3-bt9PsCCRAXHiUsMzpBSE9WXWRrcnmAh46VnKOqsbi_xs3U2-Lp8Pc="
	if got, err := ParseAuthorization(auth); err != nil || !bytes.Equal(got, tok) {
		t.Fatalf("ParseAuthorization of privacypass-ts's header: %x, %v", got, err)
	}

	ch, _ := (&TokenChallenge{TokenType: TypeVOPRF, IssuerName: "aegisd"}).MarshalBinary()
	key := make([]byte, 49)
	key[0] = 2
	for i := 1; i < len(key); i++ {
		key[i] = byte(i * 5)
	}
	for _, h := range []string{
		"PrivateToken challenge=AAEABmFlZ2lzZAAAAA==,token-key=AgUKDxQZHiMoLTI3PEFGS1BVWl9kaW5zeH2Ch4yRlpugpaqvtLm-w8jN0tfc4ebr8A==,max-age=10",
		`PrivateToken challenge="AAEABmFlZ2lzZAAAAA==",token-key="AgUKDxQZHiMoLTI3PEFGS1BVWl9kaW5zeH2Ch4yRlpugpaqvtLm-w8jN0tfc4ebr8A==",max-age="10"`,
	} {
		got, err := ParseWWWAuthenticate(h)
		if err != nil || len(got) != 1 {
			t.Fatalf("ParseWWWAuthenticate(%q): %d challenges, %v", h, len(got), err)
		}
		if !bytes.Equal(got[0].TokenChallenge, ch) || !bytes.Equal(got[0].TokenKey, key) || got[0].MaxAge != 10 {
			t.Fatalf("ParseWWWAuthenticate(%q) = %+v", h, got[0])
		}
	}
}
