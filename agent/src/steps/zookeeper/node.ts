// The ZooKeeper steps' way to their node's server: the agent's LOCAL `zookeeper` declaration in
// `ctx.node` (paths, ports, the service and the CLI argv never come from an order).
import { InvalidInputError, type ZooKeeperNodeConfig } from '@drover/shared';
import type { StepContext } from '../context.ts';

export function localZooKeeper(ctx: StepContext): ZooKeeperNodeConfig {
  const zookeeper = ctx.node.zookeeper;
  if (!zookeeper)
    throw new InvalidInputError(
      'step',
      ctx.info.step,
      `an agent whose config declares a ZooKeeper server (agent ${ctx.agent.id} has none)`,
    );
  return zookeeper;
}
