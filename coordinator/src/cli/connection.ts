// Flags every command that talks to NATS shares, and the one place that turns them into a connection.
import { hostname } from 'node:os';
import { Flags } from '@oclif/core';
import { connectDrover, type Drover, defaultServers, type NatsOptions } from '../engine/index.ts';

export const natsFlags = {
  nats: Flags.string({
    summary: 'NATS server URL(s), comma-separated.',
    env: 'DROVER_NATS',
    default: 'nats://127.0.0.1:4222',
  }),
  'nats-user': Flags.string({ summary: 'NATS user.', env: 'DROVER_NATS_USER' }),
  'nats-pass': Flags.string({ summary: 'NATS password (never logged).', env: 'DROVER_NATS_PASS' }),
  'nats-ca': Flags.string({
    summary: "CA certificate (PEM) the NATS servers' TLS certificates are checked against; turns TLS on.",
    env: 'DROVER_NATS_CA',
  }),
};

export async function connectFromFlags(
  flags: {
    nats?: string;
    'nats-user'?: string;
    'nats-pass'?: string;
    'nats-ca'?: string;
  },
  extra: Pick<NatsOptions, 'readOnly' | 'inboxPrefix'> = {},
): Promise<Drover> {
  const servers = flags.nats
    ? flags.nats
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : defaultServers();
  return connectDrover({
    servers,
    ...(flags['nats-user'] ? { user: flags['nats-user'], pass: flags['nats-pass'] } : {}),
    ...(flags['nats-ca'] ? { tlsCaFile: flags['nats-ca'] } : {}),
    ...extra,
  });
}

/** A name for this coordinator process in leases and audit records. */
export function coordinatorId(): string {
  return `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}
