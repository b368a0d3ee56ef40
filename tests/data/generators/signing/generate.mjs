// Generates tests/data/signing_vectors.json from the real stacks.js libraries, so that
// chainsync/c32.py is tested against what wallets (Leather, Xverse) and stacks.js produce.
//
// Re-run (Node >= 18; versions are pinned exactly in package.json / package-lock.json):
//
//   cd tests/data/generators/signing
//   npm ci            # or: npm install
//   node generate.mjs # writes ../../signing_vectors.json
//
// The output is deterministic (no randomness, no timestamps): re-running with the same package
// versions must give a byte-identical file, so a diff means a library changed behaviour.
//
// Messages longer than 200 characters are stored as {prefix?, repeat, count} and expand to
// prefix + repeat * count; everything else is a literal string.

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { hashMessage, verifyMessageSignatureRsv } from '@stacks/encryption';
import {
  getAddressFromPrivateKey,
  privateKeyToPublic,
  publicKeyFromSignatureRsv,
  publicKeyToAddress,
  signMessageHashRsv,
} from '@stacks/transactions';
import { c32address, c32addressDecode, c32checkEncode, c32decode, c32encode } from 'c32check';

const here = dirname(fileURLToPath(import.meta.url));
const OUT = join(here, '..', '..', 'signing_vectors.json');
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const VERSIONS = [22, 20, 26, 21];

const sha256hex = (text) => createHash('sha256').update(text, 'utf8').digest('hex');
const hex = (bytes) => Buffer.from(bytes).toString('hex');
const expand = (m) => (typeof m === 'string' ? m : (m.prefix ?? '') + m.repeat.repeat(m.count));
const packageVersion = (name) =>
  JSON.parse(readFileSync(join(here, 'node_modules', name, 'package.json'), 'utf8')).version;

// (a) c32 addresses: 20-byte hashes from sha256, every fifth-ish one forced to leading zero bytes.
function addressVectors() {
  const out = [];
  for (let i = 0; i < 32; i++) {
    const zeros = [0, 0, 1, 0, 2, 0, 3, 0][i % 8] + (i === 31 ? 17 : 0);
    const h160 = '00'.repeat(zeros) + sha256hex(`stxworx-c32-${i}`).slice(0, 40 - 2 * zeros);
    const version = VERSIONS[i % 4];
    const address = c32address(version, h160);
    const [dv, dh] = c32addressDecode(address);
    if (dv !== version || dh !== h160) throw new Error(`round trip failed for ${address}`);
    out.push({ version, hash160: h160, address });
  }
  return out;
}

// c32checkEncode and raw c32encode on payloads that are not 20 bytes (the API takes any hex).
function payloadVectors() {
  const payloads = ['', '00', '0000', '01', '0001', 'ff', '000000ff', sha256hex('stxworx-payload-32'),
    '00' + sha256hex('stxworx-payload-33'), 'deadbeef'];
  return payloads.map((data, i) => {
    const version = [0, 1, 22, 31, 26, 5, 20, 21, 30, 10][i];
    const c32 = c32encode(data);
    const back = c32decode(c32);
    return { data, c32, c32_decoded: back, version, c32check: c32checkEncode(version, data) };
  });
}

const MESSAGES = [
  'Hello, Stacks!',
  '',
  { repeat: 'a', count: 252 },
  { repeat: 'b', count: 253 },
  { repeat: 'c', count: 65535 },
  { repeat: 'x', count: 70000 },
  'héllo wörld 🌾 ключ — 日本語 ✓',
  'line one\r\nline two\r\n',
  'e\u0301 (decomposed) vs \u00e9 (composed): no normalisation',
  'nul\u0000tab\tend',
  'app.stxworx.com wants you to sign in with your Stacks account:\nSP3EZ4N7VQ08N9S4K0RN7YJEM08PM3VEHG1T4WGB0\n\nSign in to STXWORX as client.\n\nURI: https://app.stxworx.com/login\nVersion: 1\nChain ID: 1\nNonce: 3f9c1a7e5b2d48c6a0e1f4b7\nIssued At: 2026-05-04T10:15:23.000Z\nExpiration Time: 2026-05-04T10:20:23.000Z',
];

// The three vectors written out in SIGNING.md, recomputed here so the doc is checked too.
const DOC_VECTORS = [
  ['d5ead6fdd3d16630aad4f07f5e49486337a42e58fb4eef0deaabb814c003b134',
    'Sign in to STXWORX as client on app.example.com at 2026-01-01T00:00:00.000Z nonce=a8f5132cc64d5b48'],
  ['be2974546978e3739e6d6da85c4be9f334ce32df2b9fd4b6ff1b55c0d57e9d44',
    { prefix: 'STXWORX long message 1 ', repeat: 'x', count: 277 }],
  ['7c36b0a9dedde119c75165957c6c9c187e65df1ee5db87c4c58ad503ad88cbe3',
    'héllo wörld 🌾 ключ 2 — 日本語 ✓'],
];

function signatureVector(source, privateKey, message) {
  const wallet = `${privateKey}01`; // the wallet's compressed-key form
  const text = expand(message);
  const messageHash = hex(hashMessage(text));
  const signature = signMessageHashRsv({ messageHash, privateKey: wallet });
  const publicKey = privateKeyToPublic(wallet);
  if (!verifyMessageSignatureRsv({ signature, message: text, publicKey })) {
    throw new Error(`stacks.js does not verify its own signature (${source})`);
  }
  if (publicKeyFromSignatureRsv(messageHash, signature) !== publicKey) {
    throw new Error(`stacks.js recovers another key (${source})`);
  }
  const mainnet = getAddressFromPrivateKey(wallet, 'mainnet');
  const testnet = getAddressFromPrivateKey(wallet, 'testnet');
  if (publicKeyToAddress(publicKey, 'mainnet') !== mainnet ||
      publicKeyToAddress(publicKey, 'testnet') !== testnet) {
    throw new Error(`address from key differs from address from private key (${source})`);
  }
  return {
    source,
    private_key: privateKey,
    public_key: publicKey,
    address_mainnet: mainnet,
    address_testnet: testnet,
    message,
    message_byte_length: Buffer.byteLength(text, 'utf8'),
    message_hash: messageHash,
    signature_rsv: signature,
  };
}

function signatureVectors() {
  const own = MESSAGES.map((message, i) =>
    signatureVector(`generated-${i}`, sha256hex(`stxworx-vector-${i}`), message));
  const doc = DOC_VECTORS.map(([key, message], i) => signatureVector(`SIGNING.md-${i + 1}`, key, message));
  return [...own, ...doc];
}

// (c) s' = n - s with v flipped: stacks.js (strict: false) still accepts it and recovers the key.
function highSVector(base) {
  const r = base.signature_rsv.slice(0, 64);
  const s = BigInt(`0x${base.signature_rsv.slice(64, 128)}`);
  const v = parseInt(base.signature_rsv.slice(128), 16);
  const highS = (N - s).toString(16).padStart(64, '0');
  const signature = `${r}${highS}0${v ^ 1}`;
  const text = expand(base.message);
  const stacksVerifies = verifyMessageSignatureRsv({ signature, message: text, publicKey: base.public_key });
  const recovered = publicKeyFromSignatureRsv(base.message_hash, signature);
  if (!stacksVerifies || recovered !== base.public_key) throw new Error('high-S variant rejected');
  return {
    derived_from: base.source,
    message_hash: base.message_hash,
    public_key: base.public_key,
    signature_rsv: signature,
    normalised_rsv: base.signature_rsv,
    stacks_js_verifies: stacksVerifies,
  };
}

const signatures = signatureVectors();
const output = {
  generator: 'tests/data/generators/signing/generate.mjs',
  packages: Object.fromEntries(
    ['@stacks/transactions', '@stacks/encryption', 'c32check'].map((p) => [p, packageVersion(p)])),
  addresses: addressVectors(),
  payloads: payloadVectors(),
  signatures,
  high_s: [highSVector(signatures[0]), highSVector(signatures[6])],
};
writeFileSync(OUT, `${JSON.stringify(output, null, 2)}\n`);
console.log(`wrote ${OUT}: ${output.addresses.length} addresses, ${output.payloads.length} payloads, ` +
  `${signatures.length} signatures, ${output.high_s.length} high-S`);
