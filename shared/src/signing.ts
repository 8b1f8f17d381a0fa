// Order signing: ed25519 over the canonical JSON of every order field but the signature. Agents
// verify with the coordinator public keys they trust, so a compromised NATS channel cannot forge,
// retarget, alter or extend an order.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { canonicalJson } from './canonical.ts';
import { MAX_WAVE_TARGETS, type Order, type UnsignedOrder } from './envelopes.ts';
import { InvalidInputError } from './errors.ts';
import { merkleTree, proofOk, waveLeaf } from './merkle.ts';

export interface SigningKeyPair {
  keyId: string;
  publicKeyPem: string;
  privateKeyPem: string;
}

/** A key id is derived from the public key, so it cannot be chosen to collide with a trusted one. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `ed25519-${createHash('sha256').update(der).digest('hex').slice(0, 16)}`;
}

export function generateSigningKeyPair(): SigningKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    keyId: keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** What every order of a wave shares: all of an order's fields but its own id and agent. */
export type WaveHeader = Omit<UnsignedOrder, 'keyId' | 'orderId' | 'agentId'>;

export interface OrderSigner {
  keyId: string;
  sign(order: Omit<UnsignedOrder, 'keyId'>): Order;
  /**
   * Signs a wave of orders once: one signature over the shared fields and the Merkle root of the
   * targets (agent id, order id, index), and each target's order carrying its proof (merkle.ts).
   * The orders come back in the targets' order.
   */
  signWave(header: WaveHeader, targets: readonly { agentId: string; orderId: string }[]): Order[];
}

export function orderSignerFromPem(privateKeyPem: string): OrderSigner {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(privateKeyPem);
  } catch (cause) {
    throw new InvalidInputError('privateKey', '(PEM hidden)', 'an ed25519 private key in PKCS#8 PEM', { cause });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new InvalidInputError('privateKey', privateKey.asymmetricKeyType, 'an ed25519 key');
  }
  const keyId = keyIdOf(createPublicKey(privateKey));
  return {
    keyId,
    sign(order) {
      const unsigned: UnsignedOrder = { ...order, keyId };
      const signature = sign(null, Buffer.from(canonicalJson(unsigned)), privateKey).toString('base64');
      return { ...unsigned, signature };
    },
    signWave(header, targets) {
      if (targets.length > MAX_WAVE_TARGETS) throw new RangeError(`a wave has at most ${MAX_WAVE_TARGETS} targets`);
      const tree = merkleTree(targets.map((t, i) => waveLeaf(i, t.agentId, t.orderId)));
      const count = targets.length;
      const signed = { ...header, keyId, wave: { root: tree.root, count } };
      const signature = sign(null, Buffer.from(canonicalJson(signed)), privateKey).toString('base64');
      return targets.map((t, index) => ({
        ...header,
        orderId: t.orderId,
        agentId: t.agentId,
        keyId,
        signature,
        wave: { root: tree.root, count, index, proof: tree.proof(index) },
      }));
    },
  };
}

export interface TrustedKeys {
  get(keyId: string): KeyObject | undefined;
  readonly size: number;
}

export function trustedKeysFromPems(publicKeyPems: readonly string[]): TrustedKeys {
  const keys = new Map<string, KeyObject>();
  publicKeyPems.forEach((pem, index) => {
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch (cause) {
      throw new InvalidInputError(`trustedKeys[${index}]`, pem.slice(0, 40), 'an ed25519 public key in SPKI PEM', {
        cause,
      });
    }
    if (key.asymmetricKeyType !== 'ed25519') {
      throw new InvalidInputError(`trustedKeys[${index}]`, key.asymmetricKeyType, 'an ed25519 key');
    }
    keys.set(keyIdOf(key), key);
  });
  return keys;
}

/**
 * sha256 (hex) of an order message's canonical JSON: which message a rejection answers. Never
 * throws: a message canonical JSON cannot hold (a number like 1e309 parses to Infinity) is hashed
 * as JSON.stringify writes it (it is no order the coordinator signed, so any other digest will do).
 */
export function orderDigest(message: unknown): string {
  let text: string;
  try {
    text = canonicalJson(message);
  } catch {
    text = `not canonical: ${JSON.stringify(message) ?? ''}`;
  }
  return createHash('sha256').update(text).digest('hex');
}

/** Whether the order's signature was made by the trusted key it names. Never throws on bad input. */
export function verifyOrderSignature(order: Order, trusted: TrustedKeys): { ok: true } | { ok: false; reason: string } {
  const key = trusted.get(order.keyId);
  if (!key) return { ok: false, reason: `keyId ${JSON.stringify(order.keyId)} is not a trusted coordinator key` };
  if (!order.wave) {
    const { signature, wave: _none, ...unsigned } = order;
    return verifiesCanonical(unsigned, key, signature)
      ? { ok: true }
      : { ok: false, reason: 'signature does not match the order' };
  }
  const { signature, orderId, agentId, wave, ...shared } = order;
  if (!proofOk(waveLeaf(wave.index, agentId, orderId), wave.index, wave.count, wave.proof, wave.root))
    return { ok: false, reason: `order ${orderId} for ${agentId} is not at index ${wave.index} of its signed wave` };
  return verifiesCanonical({ ...shared, wave: { root: wave.root, count: wave.count } }, key, signature)
    ? { ok: true }
    : { ok: false, reason: "signature does not match the order's wave" };
}

/** Whether `signature` (base64) is `key`'s ed25519 signature over `value`'s canonical JSON. Never throws. */
export function verifiesCanonical(value: unknown, key: KeyObject, signature: string): boolean {
  try {
    return verify(null, Buffer.from(canonicalJson(value)), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
