// Generates tests/data/siws_vectors.json: Sign-In-With-Stacks messages built here, independently
// of the Python code, and signed with stacks.js exactly as a wallet's stx_signMessage does.
// The tests make the server issue a challenge with the same nonce and clock, require its text
// to equal `message` byte for byte, and sign in with `signature`.
//
// Re-run:  cd tests/data/generators/signing && npm ci && node siws.mjs
// Deterministic: fixed keys, nonces and times.

import { writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { hashMessage } from '@stacks/encryption';
import { getAddressFromPrivateKey, privateKeyToPublic, signMessageHashRsv } from '@stacks/transactions';

const here = dirname(fileURLToPath(import.meta.url));
const OUT = join(here, '..', '..', 'siws_vectors.json');

const CHAIN_IDS = { mainnet: 1, testnet: 2147483648 };

function siwsMessage({ domain, address, statement, uri, chainId, nonce, issuedAt, expiresAt }) {
  return [
    `${domain} wants you to sign in with your Stacks account:`,
    address,
    '',
    statement,
    '',
    `URI: ${uri}`,
    'Version: 1',
    `Chain ID: ${chainId}`,
    `Nonce: ${nonce}`,
    `Issued At: ${issuedAt}`,
    `Expiration Time: ${expiresAt}`,
  ].join('\n');
}

const cases = [
  { network: 'testnet', domain: 'localhost:5173', uri: 'http://localhost:5173/login' },
  { network: 'mainnet', domain: 'app.stxworx.com', uri: 'https://app.stxworx.com/login' },
  { network: 'testnet', domain: 'app.stxworx.com', uri: 'https://app.stxworx.com/login' },
];

const vectors = cases.map((c, i) => {
  const privateKey = createHash('sha256').update(`stxworx-siws-${i}`).digest('hex') + '01';
  const address = getAddressFromPrivateKey(privateKey, c.network);
  const fields = {
    domain: c.domain,
    address,
    statement: 'Sign in to STXWorx.',
    uri: c.uri,
    chainId: CHAIN_IDS[c.network],
    nonce: createHash('sha256').update(`nonce-${i}`).digest('hex').slice(0, 32),
    issuedAt: `2026-05-04T10:1${i}:23.000Z`,
    expiresAt: `2026-05-04T10:${15 + i}:23.000Z`,
  };
  const message = siwsMessage(fields);
  const signature = signMessageHashRsv({
    messageHash: Buffer.from(hashMessage(message)).toString('hex'),
    privateKey,
  });
  return {
    network: c.network,
    privateKey,
    publicKey: privateKeyToPublic(privateKey),
    ...fields,
    message,
    signature,
  };
});

writeFileSync(OUT, JSON.stringify({ generator: 'siws.mjs', vectors }, null, 2) + '\n');
console.log(`wrote ${vectors.length} vectors to ${OUT}`);
