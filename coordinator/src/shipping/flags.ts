// The bucket settings as command flags (`drover logs enable`, `drover logs ship`), checked by the
// shared schema so a bad value is refused with the flag's name before anything is written.
import {
  InvalidInputError,
  type ShippingSettings,
  type ShippingSettingsInput,
  ShippingSettingsSchema,
} from '@drover/shared';
import { Flags } from '@oclif/core';
import { parseDurationMs } from '../engine/index.ts';

export const bucketFlags = {
  bucket: Flags.string({ summary: "The customer's bucket." }),
  endpoint: Flags.string({ summary: 'S3 endpoint URL (an S3-compatible server); default: AWS for --region.' }),
  prefix: Flags.string({ summary: 'Key prefix of every object.', default: 'drover' }),
  region: Flags.string({ summary: 'Bucket region.', default: 'us-east-1' }),
  'path-style': Flags.boolean({ summary: 'Path-style URLs (most S3-compatible servers need them).' }),
  sse: Flags.string({ summary: 'Server-side encryption header.', options: ['AES256', 'aws:kms'] }),
  'sse-kms-key-id': Flags.string({ summary: 'KMS key for --sse aws:kms.' }),
  interval: Flags.string({ summary: 'How often shippers look for new data (e.g. 10s).', default: '10s' }),
  'max-object-bytes': Flags.integer({ summary: 'Largest object written (multipart above 5 MiB).' }),
};

const FLAG_OF: Record<string, string> = {
  bucket: '--bucket',
  endpoint: '--endpoint',
  prefix: '--prefix',
  region: '--region',
  forcePathStyle: '--path-style',
  serverSideEncryption: '--sse',
  sseKmsKeyId: '--sse-kms-key-id',
  intervalMs: '--interval',
  maxObjectBytes: '--max-object-bytes',
};

export function settingsFromFlags(flags: {
  bucket?: string | undefined;
  endpoint?: string | undefined;
  prefix: string;
  region: string;
  'path-style': boolean;
  sse?: string | undefined;
  'sse-kms-key-id'?: string | undefined;
  interval: string;
  'max-object-bytes'?: number | undefined;
}): ShippingSettings {
  if (!flags.bucket) throw new InvalidInputError('--bucket', '(missing)', "the customer's bucket name");
  const input: ShippingSettingsInput = {
    bucket: flags.bucket,
    prefix: flags.prefix,
    region: flags.region,
    forcePathStyle: flags['path-style'],
    intervalMs: parseDurationMs('--interval', flags.interval),
    ...(flags.endpoint ? { endpoint: flags.endpoint } : {}),
    ...(flags.sse ? { serverSideEncryption: flags.sse as 'AES256' | 'aws:kms' } : {}),
    ...(flags['sse-kms-key-id'] ? { sseKmsKeyId: flags['sse-kms-key-id'] } : {}),
    ...(flags['max-object-bytes'] ? { maxObjectBytes: flags['max-object-bytes'] } : {}),
  };
  const parsed = ShippingSettingsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? 'bucket');
    const value = (input as Record<string, unknown>)[field];
    throw new InvalidInputError(FLAG_OF[field] ?? field, JSON.stringify(value), issue.message);
  }
  return parsed.data;
}
