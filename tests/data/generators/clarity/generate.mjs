// Generates tests/data/clarity_vectors.json with the real stacks.js Clarity encoder, so the
// Python codec (chainsync/clarity.py) is checked against an independent implementation.
//
// Re-run (Node >= 18; node_modules is gitignored):
//   cd tests/data/generators/clarity
//   npm ci            # installs the exact @stacks/transactions pinned in package.json
//   node generate.mjs # rewrites ../../clarity_vectors.json
//
// Each vector: name, hex (Cl.serialize), repr (Cl.prettyPrint, display only), typed (the value
// with stacks.js type names: uint/int/buffer/true/false/address/contract/ok/err/none/some/list/
// tuple/ascii/utf8, integers as decimal strings, buffers as hex) and json (what clarity_to_json
// must return). Vectors with `canonical: false` are encoded in an order the node never writes:
// stacks.js sorts tuple keys with localeCompare, the node bytewise.
import { readFileSync, writeFileSync } from 'node:fs';
import { Address, Cl } from '@stacks/transactions';

const OUT = new URL('../../clarity_vectors.json', import.meta.url);
const MAX_SAFE = 2n ** 53n;

const CLIENT_MAIN = 'SP3EZ4N7VQ08N9S4K0RN7YJEM08PM3VEHG1T4WGB0';
const FREELANCER_MAIN = 'SP35RSHR1S4PP16W7600BCTE51WX76BF37VD1WT7B';
const CLIENT_TEST = 'ST3EZ4N7VQ08N9S4K0RN7YJEM08PM3VEHG3QG2915';
const FREELANCER_TEST = 'ST35RSHR1S4PP16W7600BCTE51WX76BF37VS51FQQ';
const ESCROW = 'STVNRH0FC9XJP8J18C92J09MNBS2BS2TW6RCAQ87.escrow-contract-v1';
const SBTC = 'SM3VDXK3WZZSA84XXFKAFAF15NNZX32CTSG82JFQ4.sbtc-token';
const MULTISIG_TEST = Address.stringify({ version: 21, hash160: 'ddf254fbb81154e493062a7f49d4022d41edd180' });
const BOOT = 'SP000000000000000000002Q6VF78';

function projectCreated(client, freelancer) {
  return Cl.tuple({
    'project-id': Cl.uint(1),
    client: Cl.principal(client),
    freelancer: Cl.principal(freelancer),
    'gross-amount': Cl.uint(40_000_000),
    'net-escrow': Cl.uint(36_000_000),
    'fee-collected': Cl.uint(4_000_000),
    'num-milestones': Cl.uint(4),
    token: Cl.stringAscii('STX'),
    event: Cl.stringAscii('project-created'),
  });
}

function nestedSome(levels, inner) {
  let value = inner;
  for (let i = 0; i < levels; i++) value = Cl.some(value);
  return value;
}

const ALL_PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');

const VECTORS = [
  ['uint-zero', Cl.uint(0)],
  ['uint-one', Cl.uint(1)],
  ['uint-max-safe', Cl.uint(MAX_SAFE - 1n)],
  ['uint-2-pow-53', Cl.uint(MAX_SAFE)],
  ['uint-max', Cl.uint(2n ** 128n - 1n)],
  ['int-zero', Cl.int(0)],
  ['int-minus-one', Cl.int(-1)],
  ['int-min', Cl.int(-(2n ** 127n))],
  ['int-max', Cl.int(2n ** 127n - 1n)],
  ['int-minus-max-safe', Cl.int(-(MAX_SAFE - 1n))],
  ['int-minus-2-pow-53', Cl.int(-MAX_SAFE)],
  ['bool-true', Cl.bool(true)],
  ['bool-false', Cl.bool(false)],
  ['buffer-empty', Cl.buffer(new Uint8Array())],
  ['buffer-deadbeef', Cl.bufferFromHex('deadbeef')],
  ['buffer-300-bytes', Cl.buffer(Uint8Array.from({ length: 300 }, (_, i) => i % 256))],
  ['ascii-empty', Cl.stringAscii('')],
  ['ascii-token', Cl.stringAscii('sBTC')],
  ['ascii-all-printable-and-whitespace', Cl.stringAscii(`${ALL_PRINTABLE}\t\n\r`)],
  ['utf8-empty', Cl.stringUtf8('')],
  ['utf8-wheat-and-cyrillic', Cl.stringUtf8('hello 🌾 ключ')],
  ['utf8-emoji-zwj-flags-cjk-combining', Cl.stringUtf8('👩‍💻 🇵🇹 日本語 e\u0301 \u0000 ok')],
  ['principal-mainnet', Cl.principal(CLIENT_MAIN)],
  ['principal-testnet', Cl.principal(CLIENT_TEST)],
  ['principal-testnet-multisig', Cl.principal(MULTISIG_TEST)],
  ['principal-boot-zero-hash', Cl.principal(BOOT)],
  ['contract-sbtc-mainnet', Cl.principal(SBTC)],
  ['contract-escrow-testnet', Cl.principal(ESCROW)],
  ['contract-long-name', Cl.contractPrincipal(CLIENT_TEST, `a${'b-_9'.repeat(31)}Zz`)],
  ['ok-u42', Cl.ok(Cl.uint(42))],
  ['err-u102', Cl.error(Cl.uint(102))],
  ['ok-true', Cl.ok(Cl.bool(true))],
  ['none', Cl.none()],
  ['some-u7', Cl.some(Cl.uint(7))],
  ['some-none', Cl.some(Cl.none())],
  ['some-some-ok-none', Cl.some(Cl.some(Cl.ok(Cl.none())))],
  ['err-ascii', Cl.error(Cl.stringAscii('ERR-NOT-CLIENT'))],
  ['list-empty', Cl.list([])],
  ['list-uints', Cl.list([Cl.uint(1), Cl.uint(2), Cl.uint(3)])],
  ['list-principals', Cl.list([Cl.principal(CLIENT_TEST), Cl.principal(SBTC)])],
  ['list-of-lists', Cl.list([Cl.list([Cl.int(-1)]), Cl.list([]), Cl.list([Cl.int(2), Cl.int(3)])])],
  ['list-300-uints', Cl.list(Array.from({ length: 300 }, (_, i) => Cl.uint(i)))],
  ['list-of-optionals', Cl.list([Cl.some(Cl.uint(1)), Cl.none()])],
  ['print-project-created-testnet', projectCreated(CLIENT_TEST, FREELANCER_TEST)],
  ['print-project-created-mainnet', projectCreated(CLIENT_MAIN, FREELANCER_MAIN)],
  [
    'print-dispute-resolved-sbtc',
    Cl.tuple({
      event: Cl.stringAscii('dispute-resolved'),
      'project-id': Cl.uint(3),
      milestone: Cl.uint(4),
      'released-to-freelancer': Cl.bool(true),
      amount: Cl.uint(9_000),
      token: Cl.stringAscii('sBTC'),
    }),
  ],
  [
    'print-sbtc-contract-updated',
    Cl.tuple({ event: Cl.stringAscii('sbtc-contract-updated'), contract: Cl.principal(SBTC) }),
  ],
  [
    'get-dispute-some',
    Cl.some(
      Cl.tuple({
        'filed-at': Cl.uint(152318),
        'filed-by': Cl.principal(FREELANCER_TEST),
        'resolved-at': Cl.uint(0),
        'resolved-in-favor-of': Cl.some(Cl.principal(CLIENT_TEST)),
        status: Cl.uint(1),
      })
    ),
  ],
  [
    'status-summary-ok',
    Cl.ok(
      Cl.tuple({
        'age-blocks': Cl.uint(12),
        'fee-paid': Cl.uint(4_000_000),
        'last-activity-block': Cl.uint(152321),
        'milestones-complete': Cl.uint(1),
        'milestones-released': Cl.uint(1),
        'refundable-amount': Cl.uint(27_000_000),
        refunded: Cl.bool(false),
        'released-amount': Cl.uint(9_000_000),
        'token-type': Cl.uint(0),
        'total-amount': Cl.uint(36_000_000),
      })
    ),
  ],
  [
    'sip018-domain',
    Cl.tuple({ name: Cl.stringAscii('STXWorx'), version: Cl.stringAscii('1.0.0'), 'chain-id': Cl.uint(2147483648) }),
  ],
  [
    'tuple-nested',
    Cl.tuple({
      outer: Cl.tuple({ inner: Cl.list([Cl.tuple({ leaf: Cl.bufferFromHex('00ff') })]) }),
      a1: Cl.int(-5),
      'a-b': Cl.stringUtf8('ü'),
      a: Cl.none(),
      ab: Cl.error(Cl.some(Cl.bool(false))),
    }),
  ],
  ['depth-32-nested-some', nestedSome(31, Cl.uint(1))],
  [
    'tuple-keys-localecompare-order',
    Cl.tuple({ a: Cl.uint(1), 'a-b': Cl.uint(2), a_b: Cl.uint(3), B: Cl.uint(4), 'b!': Cl.uint(5) }),
    { canonical: false },
  ],
];

function typed(cv) {
  switch (cv.type) {
    case 'int':
    case 'uint':
      return { type: cv.type, value: String(cv.value) };
    case 'true':
    case 'false':
    case 'none':
      return { type: cv.type };
    case 'buffer':
    case 'address':
    case 'contract':
    case 'ascii':
    case 'utf8':
      return { type: cv.type, value: cv.value };
    case 'ok':
    case 'err':
    case 'some':
      return { type: cv.type, value: typed(cv.value) };
    case 'list':
      return { type: cv.type, value: cv.value.map(typed) };
    case 'tuple':
      return { type: cv.type, value: Object.fromEntries(Object.entries(cv.value).map(([k, v]) => [k, typed(v)])) };
  }
  throw new Error(`unknown type ${cv.type}`);
}

function plain(cv) {
  switch (cv.type) {
    case 'int':
    case 'uint': {
      const n = BigInt(cv.value);
      return (n < 0n ? -n : n) >= MAX_SAFE ? n.toString() : Number(n);
    }
    case 'true':
      return true;
    case 'false':
      return false;
    case 'none':
      return null;
    case 'buffer':
      return `0x${cv.value}`;
    case 'address':
    case 'contract':
    case 'ascii':
    case 'utf8':
      return cv.value;
    case 'ok':
    case 'err':
      return { [cv.type]: plain(cv.value) };
    case 'some':
      return plain(cv.value);
    case 'list':
      return cv.value.map(plain);
    case 'tuple':
      return Object.fromEntries(Object.entries(cv.value).map(([k, v]) => [k, plain(v)]));
  }
  throw new Error(`unknown type ${cv.type}`);
}

function bytewise(a, b) {
  return a < b ? -1 : a > b ? 1 : 0; // names are ASCII, so UTF-16 order is byte order
}

// True when every tuple inside cv was written in the node's (bytewise) key order.
function sortedBytewise(cv) {
  if (cv.type === 'tuple') {
    const keys = Object.keys(cv.value);
    const expected = [...keys].sort((a, b) => a.localeCompare(b));
    if (JSON.stringify(expected) !== JSON.stringify([...keys].sort(bytewise))) return false;
    return Object.values(cv.value).every(sortedBytewise);
  }
  if (cv.type === 'list') return cv.value.every(sortedBytewise);
  if (['ok', 'err', 'some'].includes(cv.type)) return sortedBytewise(cv.value);
  return true;
}

const vectors = VECTORS.map(([name, cv, options = {}]) => {
  const canonical = options.canonical ?? true;
  if (sortedBytewise(cv) !== canonical) throw new Error(`${name}: key order is not as declared`);
  const hex = `0x${Cl.serialize(cv)}`;
  if (Cl.serialize(Cl.deserialize(hex)) !== hex.slice(2)) throw new Error(`${name}: no round trip`);
  return { name, hex, repr: Cl.prettyPrint(cv), canonical, typed: typed(cv), json: plain(cv) };
});

const PKG = new URL('./node_modules/@stacks/transactions/package.json', import.meta.url);
const pkg = JSON.parse(readFileSync(PKG, 'utf8'));
const doc = { generator: `@stacks/transactions ${pkg.version} (tests/data/generators/clarity)`, vectors };
writeFileSync(OUT, `${JSON.stringify(doc, null, 2)}\n`);
console.log(`wrote ${vectors.length} vectors to ${OUT.pathname}`);
