// What a service manager reports. Plain JSON-safe objects, so a step can put them in its result.
import type { ServiceConfig } from '@drover/shared';

export type ServiceManagerKind = ServiceConfig['manager'];

/**
 * `running`/`stopped`/`failed` from every manager; `starting` and `stopping` only from systemd
 * (a unit in `activating`/`deactivating`).
 */
export type ServiceState = 'running' | 'starting' | 'stopping' | 'stopped' | 'failed';

export interface ServiceStatus {
  service: string;
  manager: ServiceManagerKind;
  state: ServiceState;
  /** The main process, when running (and, for a failed process-managed service, the one that died). */
  pid?: number;
  /** Epoch ms the current state began, when the manager knows it. */
  since?: number;
  /** How the process ended, when a process-managed service failed and the agent saw the exit. */
  exitCode?: number | null;
  signal?: string | null;
  /** The manager's own word: systemd's ActiveState, or why a process is failed. */
  detail?: string;
}

/** What a call did: `changed` is false for a no-op (start of a running service, stop of a stopped one). */
export type ServiceOutcome = 'started' | 'already-running' | 'stopped' | 'already-stopped' | 'restarted';

export interface ServiceActionResult {
  service: string;
  action: 'start' | 'stop' | 'restart';
  outcome: ServiceOutcome;
  changed: boolean;
  /** The state found before acting. */
  before: ServiceState;
  /** The state read again after acting. */
  status: ServiceStatus;
  /** For a stop: the signal that ended the process (SIGKILL when SIGTERM was not enough). */
  stoppedBy?: 'SIGTERM' | 'SIGKILL';
  durationMs: number;
}

export interface ServiceCallOptions {
  /** Cancels waiting (for readiness, for systemctl); see each manager for what is left behind. */
  signal?: AbortSignal | undefined;
}

/** One configured service, driven by its manager. */
export interface ServiceDriver {
  status(options?: ServiceCallOptions): Promise<ServiceStatus>;
  start(options?: ServiceCallOptions): Promise<ServiceActionResult>;
  stop(options?: ServiceCallOptions): Promise<ServiceActionResult>;
  restart(options?: ServiceCallOptions): Promise<ServiceActionResult>;
}

/** Services by NAME: all a caller (a step) can name; argv, units and paths stay in the agent's config. */
export interface ServiceControl {
  status(name: string, options?: ServiceCallOptions): Promise<ServiceStatus>;
  start(name: string, options?: ServiceCallOptions): Promise<ServiceActionResult>;
  stop(name: string, options?: ServiceCallOptions): Promise<ServiceActionResult>;
  restart(name: string, options?: ServiceCallOptions): Promise<ServiceActionResult>;
}

/** Logging the managers do (the agent's Logger fits). */
export interface ServiceLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}
