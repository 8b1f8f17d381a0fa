// One service's settings with every default filled in, resolved once from the agent's config.
import { join } from 'node:path';
import type { ServiceConfig } from '@drover/shared';
import { ConfigError } from '../../errors.ts';

/** How long start() waits for readyPort, and for `systemctl start|restart`. */
export const DEFAULT_READY_TIMEOUT_MS = 60_000;
/** How long stop() waits after SIGTERM before SIGKILL, and for `systemctl stop`. */
export const DEFAULT_STOP_TIMEOUT_MS = 30_000;
export const DEFAULT_SYSTEMCTL_PATH = '/usr/bin/systemctl';

export interface ProcessServiceSettings {
  name: string;
  manager: 'process';
  argv: [string, ...string[]];
  env: Readonly<Record<string, string>> | undefined;
  cwd: string | undefined;
  /** @default `<stateDir>/services/<name>.log` */
  logFile: string;
  /** `<stateDir>/services/<name>.pid` */
  pidFile: string;
  readyPort: { host: string; port: number } | undefined;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
}

export interface SystemdServiceSettings {
  name: string;
  manager: 'systemd';
  unit: string;
  systemctlPath: string;
  /** Only quoted when a start fails. */
  logFile: string | undefined;
  readyPort: { host: string; port: number } | undefined;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
}

export type ServiceSettings = ProcessServiceSettings | SystemdServiceSettings;

/**
 * Fills defaults for one configured service. The config schema already requires argv (process) and
 * unit (systemd); a config built without the schema gets the same message here.
 */
export function resolveServiceSettings(
  name: string,
  config: ServiceConfig,
  agent: { stateDir: string; systemctlPath?: string | undefined },
): ServiceSettings {
  const common = {
    name,
    readyPort: config.readyPort,
    readyTimeoutMs: config.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    stopTimeoutMs: config.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS,
  };
  if (config.manager === 'systemd') {
    if (!config.unit) throw new ConfigError(`services.${name}.unit: is required when manager is "systemd"`);
    return {
      ...common,
      manager: 'systemd',
      unit: config.unit,
      systemctlPath: agent.systemctlPath ?? DEFAULT_SYSTEMCTL_PATH,
      logFile: config.logFile,
    };
  }
  const [program, ...args] = config.argv ?? [];
  if (!program) throw new ConfigError(`services.${name}.argv: is required when manager is "process"`);
  const folder = join(agent.stateDir, 'services');
  return {
    ...common,
    manager: 'process',
    argv: [program, ...args],
    env: config.env,
    cwd: config.cwd,
    logFile: config.logFile ?? join(folder, `${name}.log`),
    pidFile: join(folder, `${name}.pid`),
  };
}
