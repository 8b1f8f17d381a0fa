// ElectLeaders (API key 43): no Node Kafka client has it, so Drover carries its own codec, built on
// @platformatic/kafka's Writer/Reader and sent through its connections (`createAPI`). Versions 0-2
// are every version Kafka has (3.9 and 4.1 both accept 0-2); the client picks the highest the broker
// offers. Grammar per version in `v<N>/{request,response}.ts`.
import { type API, createAPI, type Reader } from '@platformatic/kafka';
import { API_KEYS } from '../api-keys.ts';
import type { ElectionResult, ElectLeadersRequest, ElectLeadersResponse } from './types.ts';
import * as requestV0 from './v0/request.ts';
import * as responseV0 from './v0/response.ts';
import * as requestV1 from './v1/request.ts';
import * as responseV1 from './v1/response.ts';
import * as requestV2 from './v2/request.ts';
import * as responseV2 from './v2/response.ts';

export * from './types.ts';

export type ElectLeadersApi = API<[request: ElectLeadersRequest], ElectLeadersResponse>;

export interface ElectLeadersCodec {
  version: number;
  /** Flexible versions (2+) use request header v2 and response header v1 (tagged fields). */
  flexible: boolean;
  encode(request: ElectLeadersRequest): ReturnType<typeof requestV0.encode>;
  decode(reader: Reader): ElectLeadersResponse;
  parse(response: ElectLeadersResponse): ElectionResult[];
}

export const ELECT_LEADERS_CODECS: Readonly<Record<number, ElectLeadersCodec>> = {
  0: { version: 0, flexible: false, encode: requestV0.encode, decode: responseV0.decode, parse: responseV0.parse },
  1: { version: 1, flexible: false, encode: requestV1.encode, decode: responseV1.decode, parse: responseV1.parse },
  2: { version: 2, flexible: true, encode: requestV2.encode, decode: responseV2.decode, parse: responseV2.parse },
};

/** The versions this codec speaks, lowest first. */
export const ELECT_LEADERS_VERSIONS: readonly number[] = [0, 1, 2];

const ELECT_LEADERS_APIS: ReadonlyMap<number, ElectLeadersApi> = new Map(
  Object.values(ELECT_LEADERS_CODECS).map((codec) => [
    codec.version,
    createAPI<[request: ElectLeadersRequest], ElectLeadersResponse>(
      API_KEYS.ElectLeaders,
      codec.version,
      (request: ElectLeadersRequest) => codec.encode(request),
      (_correlationId, _apiKey, _apiVersion, reader) => codec.decode(reader),
      codec.flexible,
      codec.flexible,
    ),
  ]),
);

/**
 * The low-level API for one version: `api.async(connection, request)` sends it on a
 * @platformatic/kafka Connection and resolves with the decoded response (not yet parsed, so a caller
 * can look at a top-level NOT_CONTROLLER before turning codes into errors).
 */
export function electLeadersApi(version: number): ElectLeadersApi {
  const api = ELECT_LEADERS_APIS.get(version);
  if (!api) throw new RangeError(`ElectLeaders v${version} is not supported (${ELECT_LEADERS_VERSIONS.join(', ')})`);
  return api;
}
