// The agent's CQL session: cassandra-driver talking to the LOCAL node only (an allow-list policy on
// its own address), with metadata sync off (the driver's token map is quadratic and its replica
// placement wrong across DCs with different racks; the planner computes placement itself). Connects
// on first use and again after a failure, so a node restart mid-step only costs a retry.
import { readFileSync } from 'node:fs';
import type { CassandraNodeConfig } from '@drover/shared';
import type cassandra from 'cassandra-driver';
import { CassandraUnreachableError } from './errors.ts';

export type Row = cassandra.types.Row;

export class CqlSession {
  readonly address: string;
  readonly #config: CassandraNodeConfig;
  #client: Promise<cassandra.Client> | undefined;

  constructor(config: CassandraNodeConfig) {
    this.#config = config;
    this.address = `${config.cql.host}:${config.cql.port}`;
  }

  async #make(): Promise<cassandra.Client> {
    // Loaded on first use: an agent that never talks to Cassandra never maps the driver.
    const { default: driver } = await import('cassandra-driver');
    const { host, port } = this.#config.cql;
    const options: cassandra.ClientOptions = {
      contactPoints: [`${host}:${port}`],
      policies: {
        loadBalancing: new driver.policies.loadBalancing.AllowListPolicy(
          new driver.policies.loadBalancing.RoundRobinPolicy(),
          [`${host}:${port}`],
        ),
        reconnection: new driver.policies.reconnection.ConstantReconnectionPolicy(1000),
      },
      isMetadataSyncEnabled: false,
      socketOptions: { connectTimeout: 5000, readTimeout: 30_000 },
      pooling: { coreConnectionsPerHost: { [driver.types.distance.local]: 1 } },
    };
    if (this.#config.credentialsFile) {
      const text = readFileSync(this.#config.credentialsFile, 'utf8').trim();
      const colon = text.indexOf(':');
      options.credentials = { username: text.slice(0, colon), password: text.slice(colon + 1) };
    }
    return new driver.Client(options);
  }

  /**
   * Runs one statement on the local node; CassandraUnreachableError when it does not answer.
   * `anyReplica`: consistency ONE instead of the driver's LOCAL_ONE, for a read the local DC may not
   * hold yet (a new DC before the keyspace replicates to it).
   */
  async execute(query: string, params: unknown[] = [], options: { anyReplica?: boolean } = {}): Promise<Row[]> {
    try {
      this.#client ??= this.#make();
      const client = await this.#client;
      const consistency = options.anyReplica
        ? { consistency: (await import('cassandra-driver')).default.types.consistencies.one }
        : {};
      return (await client.execute(query, params, { prepare: params.length > 0, ...consistency })).rows;
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'NoHostAvailableError' || name === 'OperationTimedOutError' || name === 'DriverError') {
        await this.close();
        throw new CassandraUnreachableError(this.address, query.split(' ').slice(0, 4).join(' '), { cause: error });
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.then((c) => c.shutdown()).catch(() => undefined);
  }
}
