// The connection layer of the Kafka client: one @platformatic/kafka ConnectionPool, each broker's
// ApiVersions (asked once per address, as brokers of a cluster being migrated may differ in version),
// the brokers and controller from the latest Metadata, and `send`, which turns the library's network
// errors into KafkaUnreachableError naming the address. Every operation file builds on this.
import { setTimeout as delay } from 'node:timers/promises';
import { InvalidInputError } from '@drover/shared';
import {
  type API,
  apiVersionsV3,
  type Connection,
  ConnectionPool,
  GenericError,
  metadataV9,
  metadataV10,
  metadataV11,
  metadataV12,
  ResponseError,
} from '@platformatic/kafka';
import { AGENT_VERSION } from '../../version.ts';
import { API_KEYS, type ApiName, KAFKA_ERROR_CODES, KafkaRequestError } from '../kafka-protocol/index.ts';
import { KafkaClientClosedError, KafkaUnreachableError, KafkaUnsupportedApiError } from './errors.ts';
import { type BrokerAddress, formatBrokerAddress, type ResolvedKafkaAdminOptions } from './options.ts';

/** The fields of Metadata v9-v12 this client reads (the same in each). */
export interface MetadataView {
  brokers: { nodeId: number; host: string; port: number; rack: string | null }[];
  clusterId: string | null;
  controllerId: number;
  topics: {
    errorCode: number;
    name: string | null;
    isInternal: boolean;
    partitions: {
      errorCode: number;
      partitionIndex: number;
      leaderId: number;
      leaderEpoch: number;
      replicaNodes: number[];
      isrNodes: number[];
      offlineReplicas: number[];
    }[];
  }[];
}

type MetadataApi = API<[topics: string[] | null, allowAutoTopicCreation?: boolean], MetadataView>;
const METADATA_APIS: Readonly<Record<number, MetadataApi>> = {
  9: metadataV9.api as unknown as MetadataApi,
  10: metadataV10.api as unknown as MetadataApi,
  11: metadataV11.api as unknown as MetadataApi,
  12: metadataV12.api as unknown as MetadataApi,
};

/** Network and timeout errors of @platformatic/kafka (TimeoutError reports the network code too). */
function isNetworkError(error: unknown): boolean {
  return (
    error instanceof Error &&
    GenericError.isGenericError(error) &&
    (error.code === 'PLT_KFK_NETWORK' || error.code === 'PLT_KFK_TIMEOUT')
  );
}

export class KafkaSession {
  readonly options: ResolvedKafkaAdminOptions;
  readonly #pool: ConnectionPool;
  readonly #versions = new Map<string, Promise<Map<number, { min: number; max: number }>>>();
  #brokers = new Map<number, BrokerAddress>();
  #closed = false;

  constructor(options: ResolvedKafkaAdminOptions) {
    this.options = options;
    this.#pool = new ConnectionPool(options.clientId, {
      connectTimeout: options.connectTimeoutMs,
      requestTimeout: options.requestTimeoutMs + 5_000,
      maxInflights: 5,
    });
  }

  get bootstrapAddresses(): string[] {
    return this.options.bootstrap.map(formatBrokerAddress);
  }

  /** A connection to the first bootstrap broker that answers (the agent's local broker). */
  async bootstrapConnection(operation: string): Promise<Connection> {
    this.#checkOpen(operation);
    const causes: unknown[] = [];
    for (const address of this.options.bootstrap) {
      try {
        return await this.#pool.get(address);
      } catch (error) {
        if (!isNetworkError(error)) throw error;
        causes.push(error);
      }
    }
    const cause = causes.length === 1 ? causes[0] : new AggregateError(causes, 'every bootstrap broker failed');
    throw new KafkaUnreachableError(operation, this.bootstrapAddresses, null, { cause });
  }

  /** A connection to broker `id` at the address the latest Metadata gave (read again when unknown). */
  async brokerConnection(id: number, operation: string): Promise<Connection> {
    this.#checkOpen(operation);
    if (!this.#brokers.has(id)) await this.metadata([]);
    const address = this.#brokers.get(id);
    if (!address) {
      throw new InvalidInputError('broker id', id, `a broker of the cluster (${[...this.#brokers.keys()].join(', ')})`);
    }
    try {
      return await this.#pool.get(address);
    } catch (error) {
      if (!isNetworkError(error)) throw error;
      throw new KafkaUnreachableError(operation, [formatBrokerAddress(address)], id, { cause: error });
    }
  }

  /** A connection to the broker the latest Metadata names as controller (read now). */
  async controllerConnection(operation: string): Promise<Connection> {
    const metadata = await this.metadata([]);
    if (metadata.controllerId < 0) {
      throw new KafkaRequestError('Metadata', KAFKA_ERROR_CODES.NOT_CONTROLLER, 'no controller in metadata');
    }
    return this.brokerConnection(metadata.controllerId, operation);
  }

  /**
   * Runs `attempt` against the controller. When the broker answered NOT_CONTROLLER (the controller
   * moved: a top-level KafkaRequestError, or `isStale` of the result), metadata is read again and the
   * attempt repeated, up to `controllerRetries` times; the last outcome reaches the caller as is.
   */
  async withController<T>(
    operation: string,
    attempt: (connection: Connection) => Promise<T>,
    isStale: (result: T) => boolean = () => false,
  ): Promise<T> {
    for (let i = 0; ; i++) {
      const last = i >= this.options.controllerRetries;
      try {
        const result = await attempt(await this.controllerConnection(operation));
        if (last || !isStale(result)) return result;
      } catch (error) {
        const stale = error instanceof KafkaRequestError && error.code === KAFKA_ERROR_CODES.NOT_CONTROLLER;
        if (last || !stale) throw error;
      }
      await delay(250 * (i + 1));
    }
  }

  /** The highest version of `api` that both the broker of `connection` and this client speak. */
  async version(connection: Connection, api: ApiName, supported: readonly number[]): Promise<number> {
    const address = this.#address(connection);
    let versions = this.#versions.get(address);
    if (!versions) {
      versions = this.send(connection, 'ApiVersions', apiVersionsV3.api, 'drover-agent', AGENT_VERSION).then((r) => {
        if (r.errorCode !== 0) throw new KafkaRequestError('ApiVersions', r.errorCode, null);
        return new Map(r.apiKeys.map((k) => [k.apiKey, { min: k.minVersion, max: k.maxVersion }]));
      });
      this.#versions.set(address, versions);
      versions.catch(() => this.#versions.delete(address));
    }
    const offered = (await versions).get(API_KEYS[api]) ?? null;
    const usable = supported.filter((v) => offered !== null && v >= offered.min && v <= offered.max);
    if (usable.length === 0) throw new KafkaUnsupportedApiError(api, address, offered, supported);
    return Math.max(...usable);
  }

  /**
   * Sends one request and resolves with the decoded response, also when the library rejected it
   * for carrying error codes (a ResponseError with the response): every caller reads the codes
   * itself and turns them into typed errors. No answer → KafkaUnreachableError naming the broker.
   */
  async send<Args extends unknown[], Response>(
    connection: Connection,
    operation: string,
    api: API<Args, Response>,
    ...args: Args
  ): Promise<Response> {
    try {
      return await api.async(connection, ...args);
    } catch (error) {
      if (error instanceof ResponseError && error.response !== undefined) return error.response as Response;
      if (isNetworkError(error)) {
        const address = this.#address(connection);
        const id = [...this.#brokers].find(([, a]) => formatBrokerAddress(a) === address)?.[0] ?? null;
        throw new KafkaUnreachableError(operation, [address], id, { cause: error });
      }
      throw error;
    }
  }

  /** Metadata of `topics` (null: every topic, internal ones included; []: brokers only). */
  async metadata(topics: string[] | null): Promise<MetadataView> {
    const connection = await this.bootstrapConnection('Metadata');
    const version = await this.version(connection, 'Metadata', [9, 10, 11, 12]);
    const metadata = await this.send(connection, 'Metadata', METADATA_APIS[version]!, topics, false);
    this.#brokers = new Map(metadata.brokers.map((b) => [b.nodeId, { host: b.host, port: b.port }]));
    return metadata;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.close();
  }

  #checkOpen(operation: string): void {
    if (this.#closed) throw new KafkaClientClosedError(operation);
  }

  #address(connection: Connection): string {
    return formatBrokerAddress({ host: connection.host ?? '?', port: connection.port ?? 0 });
  }
}
