// Failures of the coordinator engine, one class each (see shared/src/errors.ts for the base).
import { DroverError } from '@drover/shared';

export class NatsUnavailableError extends DroverError {
  readonly servers: string[];
  constructor(servers: string[], cause: unknown) {
    super(
      `cannot reach NATS at ${servers.join(', ')} (${(cause as Error)?.message ?? cause}); expected a running nats-server with JetStream (set --nats or DROVER_NATS)`,
      { cause, retryable: true },
    );
    this.name = 'NatsUnavailableError';
    this.servers = servers;
  }
}

export class JobNotFoundError extends DroverError {
  readonly jobId: string;
  constructor(jobId: string) {
    super(`job ${jobId} not found (see 'drover jobs')`);
    this.name = 'JobNotFoundError';
    this.jobId = jobId;
  }
}

export class AgentNotFoundError extends DroverError {
  readonly agentId: string;
  constructor(agentId: string) {
    super(`agent ${agentId} is not registered (see 'drover agents')`);
    this.name = 'AgentNotFoundError';
    this.agentId = agentId;
  }
}

export class NoTargetsError extends DroverError {
  readonly selector: string;
  constructor(selector: string, registered: number) {
    super(
      `selector ${JSON.stringify(selector)} matches none of the ${registered} registered agents; nothing dispatched`,
    );
    this.name = 'NoTargetsError';
    this.selector = selector;
  }
}

/** Another coordinator holds the job's lease: two coordinators must never drive one job. */
export class JobLeasedError extends DroverError {
  readonly owner: string;
  readonly leaseUntil: number;
  constructor(jobId: string, owner: string, until: number) {
    super(
      `job ${jobId} is being driven by ${owner}, which renews its lease (last until ${new Date(until).toISOString()} by its clock): resume only a job whose coordinator is gone`,
      { retryable: true },
    );
    this.name = 'JobLeasedError';
    this.owner = owner;
    this.leaseUntil = until;
  }
}

export class SigningKeyError extends DroverError {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'SigningKeyError';
  }
}
