// Public entry of agent/src/clients/services: start, stop, restart and status of the node's local
// services by NAME (config `services`), through systemd or as the agent's own supervised children.
export {
  ServiceStartError,
  type ServiceStartFailure,
  ServiceStateFileError,
  ServiceStopError,
  SystemctlError,
  UnknownServiceError,
} from './errors.ts';
export { NO_SERVICES, ServiceManager, type ServiceManagerOptions, type StopSupervisedReport } from './manager.ts';
export { KILL_WAIT_MS, ProcessService, START_SETTLE_MS } from './process.ts';
export {
  DEFAULT_READY_TIMEOUT_MS,
  DEFAULT_STOP_TIMEOUT_MS,
  DEFAULT_SYSTEMCTL_PATH,
  type ProcessServiceSettings,
  resolveServiceSettings,
  type ServiceSettings,
  type SystemdServiceSettings,
} from './settings.ts';
export { parseShow, SystemdService, serviceStateOf } from './systemd.ts';
export type {
  ServiceActionResult,
  ServiceCallOptions,
  ServiceControl,
  ServiceDriver,
  ServiceLogger,
  ServiceManagerKind,
  ServiceOutcome,
  ServiceState,
  ServiceStatus,
} from './types.ts';
