import { Flags } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { defaultKeyPath, writeKeyPair } from '../../engine/index.ts';

export interface KeysGenerateResult {
  keyId: string;
  privateKeyPath: string;
  publicKeyPath: string;
  publicKeyPem: string;
}

export default class KeysGenerate extends DroverCommand<KeysGenerateResult> {
  static override summary = "Generate the coordinator's ed25519 signing key pair.";
  static override description =
    'The private key (mode 0600) signs every order; give the public key to agents (trustedKeys in their config).';
  static override examples = [
    '<%= config.bin %> keys generate',
    '<%= config.bin %> keys generate --out ./coordinator.key',
  ];
  static override flags = {
    out: Flags.string({
      summary: 'Where to write the private key (the public key goes beside it as .pub).',
      env: 'DROVER_KEY',
    }),
    force: Flags.boolean({
      summary: 'Replace an existing key (agents must then trust the new public key).',
      default: false,
    }),
  };

  async run(): Promise<KeysGenerateResult> {
    const { flags } = await this.parse(KeysGenerate);
    const written = writeKeyPair(flags.out ?? defaultKeyPath(), flags.force);
    this.log(`key id:      ${written.keyId}`);
    this.log(`private key: ${written.privateKeyPath} (keep it here; mode 0600)`);
    this.log(`public key:  ${written.publicKeyPath} (put it in each agent's trustedKeys)`);
    return {
      keyId: written.keyId,
      privateKeyPath: written.privateKeyPath,
      publicKeyPath: written.publicKeyPath,
      publicKeyPem: written.publicKeyPem,
    };
  }
}
