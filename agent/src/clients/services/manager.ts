// The agent's local services by NAME: looks a name up in the agent's config (`services`) and hands the
// call to that service's manager (process or systemd). Calls on one service run one at a time, so two
// orders cannot both find it stopped and start it twice.
import type { ServiceConfig } from '@drover/shared';
import { UnknownServiceError } from './errors.ts';
import { ProcessService } from './process.ts';
import { resolveServiceSettings, type ServiceSettings } from './settings.ts';
import { SystemdService } from './systemd.ts';
import type {
  ServiceActionResult,
  ServiceCallOptions,
  ServiceControl,
  ServiceDriver,
  ServiceLogger,
  ServiceStatus,
} from './types.ts';

export interface ServiceManagerOptions {
  /** The agent config's `services`. @default none */
  services?: Readonly<Record<string, ServiceConfig>> | undefined;
  /** Where process-managed services keep their pid files (and, by default, their logs). */
  stateDir: string;
  /** @default '/usr/bin/systemctl' */
  systemctlPath?: string | undefined;
  logger?: ServiceLogger | undefined;
}

export interface StopSupervisedReport {
  stopped: ServiceActionResult[];
  failed: Array<{ service: string; error: Error }>;
}

export class ServiceManager implements ServiceControl {
  private readonly entries = new Map<string, { settings: ServiceSettings; driver: ServiceDriver }>();
  /** The last call queued per service: the next one waits for it. */
  private readonly queues = new Map<string, Promise<void>>();
  private readonly logger: ServiceLogger | undefined;

  /** Throws ConfigError when a service lacks what its manager needs. */
  constructor(options: ServiceManagerOptions) {
    this.logger = options.logger;
    for (const [name, config] of Object.entries(options.services ?? {})) {
      const settings = resolveServiceSettings(name, config, options);
      const driver =
        settings.manager === 'process' ? new ProcessService(settings, options.logger) : new SystemdService(settings);
      this.entries.set(name, { settings, driver });
    }
  }

  /** The configured service names. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  status(name: string, options?: ServiceCallOptions): Promise<ServiceStatus> {
    return this.serialized(name, (driver) => driver.status(options));
  }

  /** Starts the service unless it runs already (then reports `already-running`). */
  start(name: string, options?: ServiceCallOptions): Promise<ServiceActionResult> {
    return this.serialized(name, (driver) => driver.start(options));
  }

  /** Stops the service unless it is not running (then reports `already-stopped`). */
  stop(name: string, options?: ServiceCallOptions): Promise<ServiceActionResult> {
    return this.serialized(name, (driver) => driver.stop(options));
  }

  /** Stops the service if it runs, then starts it. */
  restart(name: string, options?: ServiceCallOptions): Promise<ServiceActionResult> {
    return this.serialized(name, (driver) => driver.restart(options));
  }

  /**
   * Stops every process-managed service that is running (the agent's own children), for agent stop.
   * Never throws: each failure is logged and reported, and the others are still stopped.
   */
  async stopSupervised(): Promise<StopSupervisedReport> {
    const report: StopSupervisedReport = { stopped: [], failed: [] };
    for (const [name, { settings }] of this.entries) {
      if (settings.manager !== 'process') continue;
      try {
        if ((await this.status(name)).state !== 'running') continue;
        report.stopped.push(await this.stop(name));
      } catch (error) {
        const err = error instanceof Error ? error : new Error(String(error));
        this.logger?.warn('supervised service not stopped', { service: name, error: err.message });
        report.failed.push({ service: name, error: err });
      }
    }
    return report;
  }

  private async serialized<T>(name: string, call: (driver: ServiceDriver) => Promise<T>): Promise<T> {
    // A Map, not an object: "constructor" or "__proto__" are no services.
    const entry = this.entries.get(name);
    if (!entry) throw new UnknownServiceError(name, this.names());
    const previous = this.queues.get(name) ?? Promise.resolve();
    // The previous call's outcome belongs to its own caller; this one only waits for it to end.
    const result = previous.then(() => call(entry.driver));
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(name, settled);
    settled.then(() => {
      if (this.queues.get(name) === settled) this.queues.delete(name);
    });
    return result;
  }
}

/** For an agent without services: every name is unknown. */
export const NO_SERVICES: ServiceControl = new ServiceManager({ stateDir: '' });
