// Generates tests/data/ipfs/cid_vectors.json with the reference JavaScript UnixFS importer
// (ipfs-unixfs-importer, the one Helia uses), so files/unixfs.py is checked against an
// independent implementation of `ipfs add --cid-version=1`.
//
// Re-run (Node >= 18; node_modules is gitignored):
//   cd tests/data/generators/ipfs
//   npm ci            # installs the exact versions pinned in package.json / package-lock.json
//   node generate.mjs # rewrites ../../ipfs/cid_vectors.json
//
// The content of every vector is the first `size` bytes of SHAKE256(SEED): deterministic,
// without repeats (so no two chunks are alike), and cheap to regenerate in the Python test
// (hashlib.shake_256(SEED).digest(size)), so no data file is committed. Options are those of
// `ipfs add --cid-version=1` (Kubo): 256 KiB fixed-size chunks, raw leaves, a single-chunk file
// is its raw leaf, balanced DAG with at most 174 links per node.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { MemoryBlockstore } from 'blockstore-core/memory';
import { importBytes } from 'ipfs-unixfs-importer';
import { balanced } from 'ipfs-unixfs-importer/layout';
import { fixedSize } from 'ipfs-unixfs-importer/chunker';

const SEED = 'stxworx-ipfs-vectors';
const KiB = 1024;
const MiB = 1024 * KiB;
const CHUNK = 256 * KiB;

const SIZES = [
  ['empty', 0],
  ['one byte', 1],
  ['one chunk less one byte', CHUNK - 1],
  ['one chunk', CHUNK],
  ['one chunk and one byte', CHUNK + 1],
  ['1 MiB', MiB],
  ['5 MiB', 5 * MiB],
  ['25 MB (the upload cap)', 25 * 1000 * 1000],
  ['174 chunks (one full node)', 174 * CHUNK],
  ['174 chunks and one byte (two levels)', 174 * CHUNK + 1],
  ['45 MiB (two levels, 180 chunks)', 45 * MiB],
];

function content(size) {
  return createHash('shake256', { outputLength: size }).update(SEED).digest();
}

const OPTIONS = {
  cidVersion: 1,
  rawLeaves: true,
  reduceSingleLeafToSelf: true,
  chunker: fixedSize({ chunkSize: CHUNK }),
  layout: balanced({ maxChildrenPerNode: 174 }),
};

const vectors = [];
for (const [name, size] of SIZES) {
  const bytes = size === 0 ? new Uint8Array(0) : new Uint8Array(content(size));
  const blockstore = new MemoryBlockstore();
  const entry = await importBytes(bytes, blockstore, OPTIONS);
  vectors.push({
    name,
    size,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    cid: entry.cid.toString(),
  });
  console.log(name, size, entry.cid.toString());
}

const out = new URL('../../ipfs/', import.meta.url);
mkdirSync(out, { recursive: true });
writeFileSync(
  new URL('cid_vectors.json', out),
  JSON.stringify(
    {
      generator: 'tests/data/generators/ipfs/generate.mjs (ipfs-unixfs-importer 17.1.1)',
      content: `first <size> bytes of SHAKE256("${SEED}")`,
      options: 'cidVersion 1, rawLeaves, reduceSingleLeafToSelf, fixedSize 262144, balanced 174',
      vectors,
    },
    null,
    2,
  ) + '\n',
);
