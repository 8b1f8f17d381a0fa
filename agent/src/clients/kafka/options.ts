// Options of the agent's Kafka client, with their defaults and checks in one place.
import { InvalidInputError } from '@drover/shared';

export interface KafkaAdminOptions {
  /** `host:port` of the broker(s) to start from: the agent's local broker. At least one. */
  bootstrap: string[];
  /** Kafka client.id of every request. @default 'drover-agent' */
  clientId?: string;
  /** How long to wait for a TCP connection to a broker. @default 5000 */
  connectTimeoutMs?: number;
  /**
   * How long a broker has to answer. Reassignments and elections give the controller this long to
   * act (their timeout_ms), and the client waits 5 s longer for the answer. @default 30000
   */
  requestTimeoutMs?: number;
  /**
   * How many times a request the broker refused with NOT_CONTROLLER (the controller moved) is sent
   * again to the controller named by fresh metadata. @default 3
   */
  controllerRetries?: number;
}

export interface BrokerAddress {
  host: string;
  port: number;
}

export interface ResolvedKafkaAdminOptions {
  bootstrap: BrokerAddress[];
  clientId: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  controllerRetries: number;
}

/** `host:port`, `[v6]:port` */
const ADDRESS = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._-]+)):(\d{1,5})$/;

export function parseBrokerAddress(field: string, value: unknown): BrokerAddress {
  const match = typeof value === 'string' ? ADDRESS.exec(value) : null;
  const port = Number(match?.[3]);
  if (!match || !(port >= 1 && port <= 65_535)) {
    throw new InvalidInputError(field, value, 'host:port with a port from 1 to 65535');
  }
  return { host: (match[1] ?? match[2])!, port };
}

export function formatBrokerAddress(address: BrokerAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

function integer(field: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved < min || resolved > max) {
    throw new InvalidInputError(field, value, `an integer from ${min} to ${max}`);
  }
  return resolved;
}

export function resolveKafkaAdminOptions(options: KafkaAdminOptions): ResolvedKafkaAdminOptions {
  if (!Array.isArray(options.bootstrap) || options.bootstrap.length === 0) {
    throw new InvalidInputError('bootstrap', options.bootstrap, 'at least one host:port');
  }
  const clientId = options.clientId ?? 'drover-agent';
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(clientId)) {
    throw new InvalidInputError('clientId', clientId, 'letters, digits, ".", "_", "-" (1-100)');
  }
  return {
    bootstrap: options.bootstrap.map((a, i) => parseBrokerAddress(`bootstrap[${i}]`, a)),
    clientId,
    connectTimeoutMs: integer('connectTimeoutMs', options.connectTimeoutMs, 5_000, 100, 600_000),
    requestTimeoutMs: integer('requestTimeoutMs', options.requestTimeoutMs, 30_000, 100, 3_600_000),
    controllerRetries: integer('controllerRetries', options.controllerRetries, 3, 0, 20),
  };
}
