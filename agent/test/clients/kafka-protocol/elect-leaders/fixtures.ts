// Loads the ElectLeaders bytes recorded from a real Kafka 3.9 broker (test/engines/kafka-admin.test.ts
// with DROVER_RECORD_FIXTURES=1 writes them): request and response bodies, headers excluded.
import fs from 'node:fs';
import path from 'node:path';
import { Reader } from '@platformatic/kafka';
import type { ElectLeadersRequest } from '../../../../src/clients/kafka-protocol/index.ts';

const DIR = path.join(import.meta.dirname, 'fixtures');

export interface RequestFixture {
  request: ElectLeadersRequest;
  bytes: Buffer;
}

export function requestFixture(name: string): RequestFixture {
  const json = JSON.parse(fs.readFileSync(path.join(DIR, `${name}_request.json`), 'utf8'));
  return { request: json.request, bytes: Buffer.from(json.hex, 'hex') };
}

export function responseReader(name: string): Reader {
  const json = JSON.parse(fs.readFileSync(path.join(DIR, `${name}_response.json`), 'utf8'));
  return Reader.from(Buffer.from(json.hex, 'hex'));
}
