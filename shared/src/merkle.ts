// A Merkle tree over a wave's targets (issue 12): the coordinator signs one wave of orders once, over
// the tree's root, and each target's copy carries the few sibling hashes that lead from its own leaf
// (its agent id, order id and index) to that root. An agent checks one signature and about log2(N)
// hashes; the copy is a few hundred bytes longer than a single order, whatever the wave's size.
// Written here (about 60 lines over node:crypto) rather than taken from a package: the npm trees
// (merkletreejs and its kin) bring crypto-js and buffer shims for what sha256 and a loop do.
// Leaves and inner nodes are hashed with different prefixes (0 and 1), so an inner node can never be
// passed off as a leaf; an odd node at the end of a level is carried up unchanged.
import { createHash } from 'node:crypto';

/** A sha256 digest in base64url without padding: 43 characters. */
export const DIGEST_BASE64URL = /^[A-Za-z0-9_-]{43}$/;

function hash(prefix: number, ...parts: Buffer[]): Buffer {
  const h = createHash('sha256').update(Buffer.of(prefix));
  for (const part of parts) h.update(part);
  return h.digest();
}

/** The leaf of one target: its index in the wave, its agent and its order id (tokens, so `\n` separates). */
export function waveLeaf(index: number, agentId: string, orderId: string): Buffer {
  return hash(0, Buffer.from(`${index}\n${agentId}\n${orderId}`));
}

export interface MerkleTree {
  root: string;
  /** The sibling hashes from leaf `index` up to the root (base64url), for proofOk. */
  proof(index: number): string[];
}

/** Builds the tree over `leaves` (at least one). */
export function merkleTree(leaves: readonly Buffer[]): MerkleTree {
  if (leaves.length === 0) throw new RangeError('a Merkle tree needs at least one leaf');
  const levels: Buffer[][] = [leaves.slice()];
  for (let level = levels[0] as Buffer[]; level.length > 1; ) {
    const up: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const right = level[i + 1];
      up.push(right ? hash(1, level[i] as Buffer, right) : (level[i] as Buffer));
    }
    levels.push(up);
    level = up;
  }
  const top = levels[levels.length - 1] as Buffer[];
  return {
    root: (top[0] as Buffer).toString('base64url'),
    proof(index) {
      const out: string[] = [];
      let i = index;
      for (const level of levels.slice(0, -1)) {
        const sibling = level[i ^ 1];
        if (sibling) out.push(sibling.toString('base64url'));
        i >>= 1;
      }
      return out;
    },
  };
}

/**
 * Whether `proof` leads from `leaf` at `index` of a tree of `count` leaves to `root`. The tree's shape
 * follows from `count`, so a proof with a hash too many or too few is refused. Never throws.
 */
export function proofOk(leaf: Buffer, index: number, count: number, proof: readonly string[], root: string): boolean {
  if (!Number.isInteger(index) || !Number.isInteger(count) || index < 0 || index >= count) return false;
  let node = leaf;
  let used = 0;
  for (let i = index, width = count; width > 1; i >>= 1, width = Math.ceil(width / 2)) {
    const hasSibling = (i ^ 1) < width;
    if (!hasSibling) continue;
    const sibling = proof[used++];
    if (sibling === undefined || !DIGEST_BASE64URL.test(sibling)) return false;
    const other = Buffer.from(sibling, 'base64url');
    node = i % 2 === 0 ? hash(1, node, other) : hash(1, other, node);
  }
  return used === proof.length && node.toString('base64url') === root;
}
