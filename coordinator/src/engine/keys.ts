// The coordinator's signing key: where it lives and how it is loaded. The private key never leaves
// this machine; agents are given the public key (`trustedKeys` in their config).
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { generateSigningKeyPair, type OrderSigner, orderSignerFromPem, type SigningKeyPair } from '@drover/shared';
import { SigningKeyError } from './errors.ts';

export function defaultKeyPath(): string {
  return process.env.DROVER_KEY ?? join(homedir(), '.config', 'drover', 'coordinator.key');
}

export function publicKeyPathFor(privateKeyPath: string): string {
  return privateKeyPath.replace(/\.key$/, '') + '.pub';
}

/** The coordinator's private key (PEM text), with a clear error when it is missing. */
export function readPrivateKeyPem(path = defaultKeyPath()): string {
  if (!existsSync(path)) {
    throw new SigningKeyError(
      `no signing key at ${path}; expected a key made by 'drover keys generate' (or set --key / DROVER_KEY)`,
    );
  }
  return readFileSync(path, 'utf8');
}

export function loadSigner(path = defaultKeyPath()): OrderSigner {
  const pem = readPrivateKeyPem(path);
  try {
    return orderSignerFromPem(pem);
  } catch (cause) {
    throw new SigningKeyError(`signing key ${path} is not an ed25519 private key in PKCS#8 PEM`, cause);
  }
}

/** Writes a new key pair (private 0600); refuses to overwrite an existing key unless told to. */
export function writeKeyPair(
  path: string,
  overwrite = false,
): SigningKeyPair & { privateKeyPath: string; publicKeyPath: string } {
  if (existsSync(path) && !overwrite) {
    throw new SigningKeyError(`a key already exists at ${path}; agents trust it. Use --force to replace it`);
  }
  const pair = generateSigningKeyPair();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, pair.privateKeyPem, { mode: 0o600 });
  chmodSync(path, 0o600);
  const publicKeyPath = publicKeyPathFor(path);
  writeFileSync(publicKeyPath, pair.publicKeyPem, { mode: 0o644 });
  return { ...pair, privateKeyPath: path, publicKeyPath };
}
