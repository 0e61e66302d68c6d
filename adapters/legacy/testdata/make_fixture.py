#!/usr/bin/python3
"""Write the committed legacy fixture vault, testdata/py-vault/, as aegis-cloak 0.1 did.

This script is independent of the Go code: it follows only the facts of issue #9 about
the Python release's on-disk layout, with the standard library and the `cryptography`
package (Debian: apt-get install python3-cryptography; run with /usr/bin/python3):

  .vault-salt         standard base64 (padded, no newline) of a 16-byte salt
  KEK                 PBKDF2-HMAC-SHA256(passphrase UTF-8, salt, 600,000 iterations, 32 bytes)
  .dek-<category>     {"nonce": b64(12 bytes), "ciphertext": b64(AES-256-GCM(KEK, DEK))}
  <category>.vault    {"category": ..., "encrypted": {"nonce": ..., "ciphertext": ...},
                       "plaintext_size": ...}, indented; the plaintext is
                       json.dumps(value, indent=2) sealed with the DEK; no associated data

It also writes testdata/py-vault.expected.json (the values, as one JSON object
{category: value}) and testdata/py-vault.pass (the passphrase, UTF-8, no newline).

A Go module zip allows only letters, digits and some ASCII punctuation in file
names, not an emoji, and the proxy refuses a whole module version with one such
file. So a file whose name is not printable ASCII is committed under a stand-in
name (non-ascii.vault and .dek-non-ascii, then non-ascii-1...), and testdata/py-vault.names.json maps
each stand-in to the real name; the tests copy the fixture under the real names
(legacytest.CopyFixture).

The salt, keys and nonces are random, so every run writes different bytes; the
committed copy is one run. Regenerate with:  /usr/bin/python3 testdata/make_fixture.py
"""

import base64
import hashlib
import json
import os
import shutil

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HERE = os.path.dirname(os.path.abspath(__file__))
VAULT = os.path.join(HERE, "py-vault")
PASSPHRASE = "correct horse battery staple \u2014 \u00fcn\u00efc\u00f6d\u00e9 \U0001F511"
ITERATIONS = 600_000


def b64(b):
    return base64.b64encode(b).decode("ascii")


def large_value():
    # About 125 KB of indented JSON: a log of entries with nested fields.
    words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod".split()
    entries = []
    for i in range(600):
        entries.append({
            "seq": i,
            "at": "2024-%02d-%02dT%02d:%02d:00Z" % (i % 12 + 1, i % 28 + 1, i % 24, i % 60),
            "text": " ".join(words[(i + k) % len(words)] for k in range(8)),
            "score": (i * 37 % 1000) / 8,
            "flags": [i % 2 == 0, i % 3 == 0],
        })
    return {"title": "activity log", "entries": entries}


DATA = {
    "contacts": {
        "alice": {"email": "alice@example.org", "phone": "+1 555 0100", "tags": ["friend", "work"]},
        "bob": {"email": "bob@example.net", "phone": None, "tags": []},
    },
    "unicode": {
        "greek": "\u039a\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1",
        "cjk": "\u4f60\u597d\uff0c\u4e16\u754c",
        "hebrew": "\u05e9\u05dc\u05d5\u05dd",
        "astral": "\U0001F510 \U0001F600 \U0001D518\U0001D52B\U0001D526 \U00020000",
        "combining": "e\u0301 n\u0303",
        "escapes": "quote \" backslash \\ tab \t newline \n control \u0001 del \u007f nbsp \u00a0",
        "\u00e9t\u00e9 key": "non-ASCII member name",
    },
    "nested": {"a": {"b": {"c": {"d": {"e": {"f": [1, [2, [3, [4, {"g": "deep"}]]]]}}}}}},
    "empty-object": {},
    "empty-array": [],
    "empty-string": "",
    "empties": {"o": {}, "a": [], "s": "", "n": None, "list": [{}, [], ""]},
    "numbers": {"int": 42, "negative": -7, "zero": 0, "big": 12345678901234567890,
                "float": 3.14159, "tiny": 1e-300, "huge": 1.5e300, "negzero": -0.0},
    "scalars": [True, False, None, "text", 1, 2.5],
    "just-a-string": "a category whose value is a plain string",
    "notes \u00fcber caf\u00e9 \U0001F4DD": {"text": "a category whose name is not ASCII"},
    "large": large_value(),
}


def seal(key, plaintext):
    nonce = os.urandom(12)
    return {"nonce": b64(nonce), "ciphertext": b64(AESGCM(key).encrypt(nonce, plaintext, None))}


def main():
    if os.path.exists(VAULT):
        shutil.rmtree(VAULT)
    os.makedirs(VAULT)
    salt = os.urandom(16)
    with open(os.path.join(VAULT, ".vault-salt"), "w") as f:
        f.write(b64(salt))
    kek = hashlib.pbkdf2_hmac("sha256", PASSPHRASE.encode("utf-8"), salt, ITERATIONS, 32)
    for category, value in DATA.items():
        dek = AESGCM.generate_key(bit_length=256)
        with open(os.path.join(VAULT, ".dek-" + category), "w") as f:
            json.dump(seal(kek, dek), f)
        plaintext = json.dumps(value, indent=2).encode("utf-8")
        envelope = {"category": category, "encrypted": seal(dek, plaintext), "plaintext_size": len(plaintext)}
        with open(os.path.join(VAULT, category + ".vault"), "w") as f:
            json.dump(envelope, f, indent=2)
    # Stand-in names for the files whose names are not printable ASCII.
    names = {}
    for i, category in enumerate(c for c in DATA if not all(" " <= ch <= "~" for ch in c)):
        stand_in = "non-ascii" if i == 0 else "non-ascii-%d" % i
        if stand_in in DATA:
            raise SystemExit("stand-in name %r is a category" % stand_in)
        for real, stored in ((".dek-" + category, ".dek-" + stand_in),
                             (category + ".vault", stand_in + ".vault")):
            os.rename(os.path.join(VAULT, real), os.path.join(VAULT, stored))
            names[stored] = real
    with open(os.path.join(HERE, "py-vault.names.json"), "w", encoding="utf-8") as f:
        f.write("{\n" + ",\n".join("  %s: %s" % (json.dumps(k), json.dumps(v, ensure_ascii=False))
                                    for k, v in sorted(names.items())) + "\n}\n")
    with open(os.path.join(HERE, "py-vault.expected.json"), "w", encoding="utf-8") as f:
        # One line per category.
        f.write("{\n" + ",\n".join(json.dumps(k, ensure_ascii=False) + ": " + json.dumps(v, ensure_ascii=False)
                                    for k, v in DATA.items()) + "\n}\n")
    with open(os.path.join(HERE, "py-vault.pass"), "w", encoding="utf-8") as f:
        f.write(PASSPHRASE)


if __name__ == "__main__":
    main()
