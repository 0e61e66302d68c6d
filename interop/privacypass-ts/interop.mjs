// interop.mjs — aegisd against an independent Privacy Pass client: Cloudflare's privacypass-ts, pinned in
// package.json and package-lock.json, with its default header handling. scripts/interop.sh runs it once per
// token type, each against its own aegisd (--token-type voprf for type 1, blind-rsa for type 2).
//
//   node interop.mjs --server http://127.0.0.1:PORT --attest-secret-file FILE --type 1|2 [--pairs N]
//
// Steps, each printing one PASS or FAIL line; the first failure ends the run with exit status 1:
//   challenge   GET of an object without a token: 401 token_required and a WWW-Authenticate header that
//               privacypass-ts's WWWAuthenticateHeader.parse reads as a PrivateToken challenge of this type
//   directory   the issuer directory (RFC 9578 section 4) lists a key of this type, equal to the challenge's
//               token-key
//   issue       N pairs of tokens (default 3, so 2N tokens): a TokenRequest from privacypass-ts's client for
//               the challenge and the directory key, POSTed with privacypass-ts's sendTokenRequest
//               (application/private-token-request) and aegisd's Bearer attestation secret; the
//               TokenResponse finalized by privacypass-ts
//   verify      each token's authenticator input names this type, the challenge's digest and the key's id;
//               type 2: privacypass-ts's publicVerif.Origin verifies each token with the directory key, and
//               refuses it with one bit flipped; type 1 is privately verifiable: aegisd accepting it below
//               is its verification
//   put, get    per pair, a PUT of a fresh object with the first token and a GET of it with the second, each
//               with privacypass-ts's AuthorizationHeader serialization (its default form, unquoted): 204,
//               then 200 and the same bytes
//   replay      every token used again (the PUT's on a GET, the GET's on a PUT): 401 token_spent, the
//               challenge again, the object unchanged
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import {
  AuthorizationHeader,
  MediaType,
  PRIVATE_TOKEN_ISSUER_DIRECTORY,
  TOKEN_TYPES,
  Token,
  WWWAuthenticateHeader,
  privateVerif,
  publicVerif,
  sendTokenRequest,
  util,
} from '@cloudflare/privacypass-ts';

const { values: opts } = parseArgs({
  options: {
    server: { type: 'string' },
    'attest-secret-file': { type: 'string' },
    type: { type: 'string' },
    pairs: { type: 'string', default: '3' },
  },
});
const usage = 'usage: node interop.mjs --server URL --attest-secret-file FILE --type 1|2 [--pairs N]';
if (!opts.server || !opts['attest-secret-file'] || !['1', '2'].includes(opts.type) || !(+opts.pairs >= 1)) {
  console.error(usage);
  process.exit(2);
}
const server = new URL(opts.server);
const secret = readFileSync(opts['attest-secret-file'], 'utf8').trim();
const type = Number(opts.type);
const pairs = Number(opts.pairs);
const entry = type === 1 ? TOKEN_TYPES.VOPRF : TOKEN_TYPES.BLIND_RSA;
const label = `type ${type} (${entry.name})`;

// The API's constants (docs/http-api.md).
const OBJECTS = '/v1/objects/';
const WRITE_ENABLER = 'Aegis-Write-Enabler';
const CODE_TOKEN_REQUIRED = 'token_required';
const CODE_TOKEN_SPENT = 'token_spent';

class StepError extends Error {}

function pass(step, detail) {
  console.log(`PASS  ${label}: ${step}: ${detail}`);
}

function check(cond, what) {
  if (!cond) throw new StepError(what);
}

async function step(name, fn) {
  try {
    pass(name, await fn());
  } catch (err) {
    console.log(`FAIL  ${label}: ${name}: ${err instanceof StepError ? err.message : err.stack || err}`);
    process.exit(1);
  }
}

const sha256 = (b) => new Uint8Array(createHash('sha256').update(b).digest());
const equal = (a, b) => Buffer.from(a).equals(Buffer.from(b));
const short = (s, n = 40) => (s.length > n ? `${s.slice(0, n - 8)}…${s.slice(-7)}` : s);

async function request(method, path, { headers = {}, body } = {}) {
  const res = await fetch(new URL(path, server), { method, headers, body, signal: AbortSignal.timeout(30_000) });
  const bytes = new Uint8Array(await res.arrayBuffer());
  let code;
  try {
    code = JSON.parse(Buffer.from(bytes).toString('utf8'))?.error?.code;
  } catch {
    code = undefined;
  }
  return { status: res.status, headers: res.headers, bytes, code };
}

const describe = (r) => `${r.status}${r.code ? ` ${r.code}` : ''}`;
const objectPath = () => OBJECTS + randomBytes(32).toString('hex');
const newEnabler = () => randomBytes(32).toString('base64url'); // 43 characters, unpadded

let challengeHeader; // the WWWAuthenticateHeader of this type
let tokenKey; // the issuer key, token-key encoding
let issuerURL;
const tokens = [];

await step('challenge', async () => {
  const r = await request('GET', objectPath());
  check(r.status === 401 && r.code === CODE_TOKEN_REQUIRED, `GET without a token: ${describe(r)}, want 401 ${CODE_TOKEN_REQUIRED}`);
  const h = r.headers.get('www-authenticate');
  check(h, 'the 401 has no WWW-Authenticate header');
  const parsed = WWWAuthenticateHeader.parse(h);
  const mine = parsed.filter((c) => c.challenge.tokenType === type);
  check(mine.length === 1, `privacypass-ts reads ${parsed.length} PrivateToken challenges, ${mine.length} of type ${type}, in ${JSON.stringify(h)}`);
  challengeHeader = mine[0];
  const c = challengeHeader.challenge;
  check(c.redemptionContext.length === 0 && c.originInfo === undefined, 'the challenge has a redemption context or origin info');
  return `401 ${r.code}; WWW-Authenticate ${JSON.stringify(short(h, 60))} parsed: issuer_name ${JSON.stringify(c.issuerName)}, token-key ${challengeHeader.tokenKey.length} bytes`;
});

await step('directory', async () => {
  const r = await request('GET', PRIVATE_TOKEN_ISSUER_DIRECTORY);
  check(r.status === 200, `GET ${PRIVATE_TOKEN_ISSUER_DIRECTORY}: ${describe(r)}`);
  const ct = r.headers.get('content-type');
  check(ct === MediaType.PRIVATE_TOKEN_ISSUER_DIRECTORY, `Content-Type ${ct}, want ${MediaType.PRIVATE_TOKEN_ISSUER_DIRECTORY}`);
  const dir = JSON.parse(Buffer.from(r.bytes).toString('utf8')); // privacypass-ts's IssuerConfig
  check(typeof dir['issuer-request-uri'] === 'string' && Array.isArray(dir['token-keys']), `not an issuer directory: ${short(JSON.stringify(dir), 120)}`);
  const now = Date.now() / 1000;
  const keys = dir['token-keys'].filter((k) => k['token-type'] === type && !(k['not-before'] > now));
  check(keys.length > 0, `no key of type ${type} in force in ${short(JSON.stringify(dir), 120)}`);
  check(/^[A-Za-z0-9_-]+=*$/.test(keys[0]['token-key']), `token-key ${short(keys[0]['token-key'])} is not base64url`);
  tokenKey = new Uint8Array(Buffer.from(keys[0]['token-key'], 'base64url'));
  check(equal(tokenKey, challengeHeader.tokenKey), "the directory's first key of this type is not the challenge's token-key");
  if (type === 2) {
    // An RSASSA-PSS SubjectPublicKeyInfo (RFC 9578 section 6.5) that WebCrypto imports as a 2048-bit key.
    const key = await importRSAKey(tokenKey);
    check(key.algorithm.modulusLength === 2048, `RSA key of ${key.algorithm.modulusLength} bits`);
  }
  issuerURL = new URL(dir['issuer-request-uri'], server);
  return `${dir['token-keys'].length} key(s); the type ${type} key (${tokenKey.length} bytes, id ${Buffer.from(sha256(tokenKey)).toString('hex').slice(0, 16)}…) is the challenge's; issuer-request-uri ${dir['issuer-request-uri']}`;
});

async function importRSAKey(spki) {
  return crypto.subtle.importKey('spki', util.convertRSASSAPSSToEnc(spki), entry.rsaParams, true, ['verify']);
}

function newClient() {
  return type === 1 ? new privateVerif.Client() : new publicVerif.Client(publicVerif.BlindRSAMode.PSS);
}

await step('issue', async () => {
  const started = Date.now();
  for (let i = 0; i < 2 * pairs; i++) {
    const client = newClient();
    const req = await client.createTokenRequest(challengeHeader.challenge, tokenKey);
    let resBytes;
    try {
      resBytes = await sendTokenRequest(req.serialize(), issuerURL, new Headers({ Authorization: `Bearer ${secret}` }));
    } catch (err) {
      throw new StepError(`token request ${i + 1}: ${err.message}`);
    }
    tokens.push(await client.finalize(client.deserializeTokenResponse(resBytes)));
  }
  return `${tokens.length} tokens (${MediaType.PRIVATE_TOKEN_REQUEST} to ${issuerURL.pathname}, finalized) in ${Date.now() - started} ms`;
});

await step('verify', async () => {
  const digest = sha256(challengeHeader.challenge.serialize());
  const keyID = sha256(tokenKey);
  for (const [i, t] of tokens.entries()) {
    const ai = t.authInput;
    check(ai.tokenType === type, `token ${i + 1}: type ${ai.tokenType}`);
    check(equal(ai.challengeDigest, digest), `token ${i + 1}: challenge digest is not SHA-256 of the challenge`);
    check(equal(ai.tokenKeyId, keyID), `token ${i + 1}: token_key_id is not SHA-256 of the key`);
  }
  const nonces = new Set(tokens.map((t) => Buffer.from(t.authInput.nonce).toString('hex')));
  check(nonces.size === tokens.length, 'two tokens share a nonce');
  if (type === 1) {
    return `${tokens.length} tokens name type 1, the challenge and the key; privately verifiable: aegisd's acceptance below verifies them`;
  }
  const origin = new publicVerif.Origin(publicVerif.BlindRSAMode.PSS);
  const key = await importRSAKey(tokenKey);
  for (const [i, t] of tokens.entries()) {
    check(await origin.verify(t, key), `token ${i + 1} does not verify with the directory key`);
  }
  const forged = await origin.verify(tamper(tokens[0]), key).catch(() => false);
  check(!forged, 'a token with one bit of its authenticator flipped verifies');
  return `${tokens.length} tokens verify with the directory key (publicVerif.Origin); one with a bit flipped does not`;
});

function tamper(t) {
  const bytes = t.serialize();
  bytes[bytes.length - 1] ^= 1;
  return Token.deserialize(entry, bytes);
}

// The Authorization header as privacypass-ts writes it by default.
const authorization = (t) => new AuthorizationHeader(t).toString();

const objects = []; // { path, body, enabler, putAuth, getAuth }
await step('put, get', async () => {
  let form;
  for (let i = 0; i < pairs; i++) {
    const o = {
      path: objectPath(),
      body: randomBytes(i % 2 === 0 ? 1024 : 4096),
      enabler: newEnabler(),
      putAuth: authorization(tokens[2 * i]),
      getAuth: authorization(tokens[2 * i + 1]),
    };
    form ??= o.putAuth;
    const put = await request('PUT', o.path, {
      headers: { Authorization: o.putAuth, [WRITE_ENABLER]: o.enabler, 'Content-Type': 'application/octet-stream' },
      body: o.body,
    });
    check(put.status >= 200 && put.status < 300, `PUT ${i + 1} with ${JSON.stringify(short(o.putAuth))}: ${describe(put)}`);
    const get = await request('GET', o.path, { headers: { Authorization: o.getAuth } });
    check(get.status === 200, `GET ${i + 1}: ${describe(get)}, want 200`);
    check(equal(get.bytes, o.body), `GET ${i + 1}: ${get.bytes.length} bytes, not the ${o.body.length} stored`);
    objects.push(o);
  }
  return `${pairs} objects stored (PUT 204) and read back (GET 200, same bytes); Authorization as privacypass-ts writes it: ${JSON.stringify(short(form, 48))}`;
});

await step('replay', async () => {
  for (const [i, o] of objects.entries()) {
    const get = await request('GET', o.path, { headers: { Authorization: o.putAuth } });
    check(get.status === 401 && get.code === CODE_TOKEN_SPENT, `GET ${i + 1} with the PUT's token: ${describe(get)}, want 401 ${CODE_TOKEN_SPENT}`);
    check(WWWAuthenticateHeader.parse(get.headers.get('www-authenticate') ?? '').length > 0, 'the 401 carries no PrivateToken challenge');
    const put = await request('PUT', o.path, {
      headers: { Authorization: o.getAuth, [WRITE_ENABLER]: o.enabler, 'Content-Type': 'application/octet-stream' },
      body: randomBytes(o.body.length),
    });
    check(put.status === 401 && put.code === CODE_TOKEN_SPENT, `PUT ${i + 1} with the GET's token: ${describe(put)}, want 401 ${CODE_TOKEN_SPENT}`);
  }
  // One more token shows that the refused PUTs changed nothing.
  const client = newClient();
  const req = await client.createTokenRequest(challengeHeader.challenge, tokenKey);
  const res = await sendTokenRequest(req.serialize(), issuerURL, new Headers({ Authorization: `Bearer ${secret}` }));
  const t = await client.finalize(client.deserializeTokenResponse(res));
  const get = await request('GET', objects[0].path, { headers: { Authorization: authorization(t) } });
  check(get.status === 200 && equal(get.bytes, objects[0].body), `GET with a fresh token after the replays: ${describe(get)}, or other bytes`);
  return `${2 * objects.length} replayed tokens refused with 401 ${CODE_TOKEN_SPENT} and the challenge; the object unchanged`;
});
