// The customer's bucket through the AWS SDK v3 S3 client (and lib-storage's Upload, which goes
// multipart above one part). Credentials come from a local file or the default chain (environment,
// ~/.aws, the instance role), never from NATS, and no message made here carries them. Imported only
// when an agent ships (the SDK is most of the agent's code by size).
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { fromIni, fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { Upload } from '@aws-sdk/lib-storage';
import type { ShippingSettings } from './shipping.ts';

export interface BucketCredentials {
  /** An AWS shared-credentials file; @default the default provider chain */
  file?: string | undefined;
  profile?: string | undefined;
}

/** One S3 part: lib-storage's minimum (objects up to it are a single PUT). */
const PART_BYTES = 5 * 1024 * 1024;

export class Bucket {
  readonly settings: ShippingSettings;
  private readonly client: S3Client;

  constructor(settings: ShippingSettings, credentials: BucketCredentials = {}) {
    this.settings = settings;
    this.client = new S3Client({
      region: settings.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      forcePathStyle: settings.forcePathStyle,
      credentials: credentials.file
        ? fromIni({ filepath: credentials.file, configFilepath: credentials.file, profile: credentials.profile })
        : fromNodeProviderChain(),
      // The shipper retries on its own schedule; a request must not hang the loop.
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
    });
  }

  /** Uploads `body` to `key` (overwriting: keys are deterministic). Resolves once S3 confirmed it. */
  async put(key: string, body: Uint8Array, contentType = 'application/octet-stream', signal?: AbortSignal) {
    const upload = new Upload({
      client: this.client,
      partSize: PART_BYTES,
      queueSize: 1,
      leavePartsOnError: false,
      params: {
        Bucket: this.settings.bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        ...(this.settings.serverSideEncryption ? { ServerSideEncryption: this.settings.serverSideEncryption } : {}),
        ...(this.settings.sseKmsKeyId ? { SSEKMSKeyId: this.settings.sseKmsKeyId } : {}),
      },
    });
    const abort = () => void upload.abort().catch(() => {});
    signal?.addEventListener('abort', abort, { once: true });
    try {
      await upload.done();
    } finally {
      signal?.removeEventListener('abort', abort);
    }
    return { bucket: this.settings.bucket, key };
  }

  /** An object's bytes (tests and restores). */
  async get(key: string): Promise<Buffer> {
    const answer = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }));
    return Buffer.from((await answer.Body?.transformToByteArray()) ?? []);
  }

  close(): void {
    this.client.destroy();
  }
}
