// `service`: start, stop, restart or report one of the node's services by name, through the agent's
// service manager (systemd unit or supervised process, as the local config says).
import { InvalidInputError, serviceStep } from '@drover/shared';
import { implementStep } from './context.ts';

export const serviceImplementation = implementStep(serviceStep, async (ctx, params) => {
  const services = ctx.services;
  if (!services)
    throw new InvalidInputError('params.name', params.name, 'a service this agent declares (none declared)');
  if (params.action === 'status') {
    const status = await services.status(params.name);
    return {
      name: params.name,
      action: params.action,
      changed: false,
      state: status.state,
      ...(status.pid ? { pid: status.pid } : {}),
    };
  }
  ctx.progress(`${params.action} ${params.name}`);
  const done = await services[params.action](params.name);
  ctx.progress(`${params.name}: ${done.outcome} (${done.status.state})`, 100);
  return {
    name: params.name,
    action: params.action,
    changed: done.changed,
    state: done.status.state,
    ...(done.status.pid ? { pid: done.status.pid } : {}),
  };
});
