// The Cassandra steps' way to their node: the agent's LOCAL `cassandra` declaration in `ctx.node`
// (CQL address, nodetool argv, JVM options file and the service never come from an order), a CQL
// session and nodetool opened for one step and closed after it, and the wait for a node to answer.
import type { CassandraNodeConfig } from '@drover/shared';
import { DroverError } from '@drover/shared';
import { CassandraUnreachableError, CqlSession, Nodetool, readLocal } from '../../clients/cassandra/index.ts';
import { localNode, type StepContext } from '../context.ts';
import { pause } from '../pause.ts';

export interface CassandraHandles {
  config: CassandraNodeConfig;
  cql: CqlSession;
  nodetool: Nodetool;
}

/** Runs `use` with a CQL session and nodetool for the local node; the session is closed after. */
export async function withCassandra<T>(ctx: StepContext, use: (node: CassandraHandles) => Promise<T>): Promise<T> {
  const config = localNode(ctx, 'cassandra');
  const cql = new CqlSession(config);
  try {
    return await use({ config, cql, nodetool: new Nodetool(config.nodetoolArgv) });
  } finally {
    await cql.close();
  }
}

/** Waits until the local node answers CQL (a restart in progress), reporting the wait; false at `deadline`. */
export async function waitForCql(ctx: StepContext, cql: CqlSession, deadline: number, why: string): Promise<boolean> {
  let reported = false;
  for (;;) {
    ctx.signal.throwIfAborted();
    try {
      await readLocal(cql);
      return true;
    } catch (error) {
      if (Date.now() > deadline) return false;
      if (!reported) ctx.progress(`${why}: waiting for ${cql.address} to answer CQL (${(error as Error).message})`);
      reported = true;
      await pause(1000, ctx.signal);
    }
  }
}

/**
 * Runs `reads` once the local node answers CQL, and again after it answers again when they fail
 * because it stopped answering: a node restarting under the step (an operator, a crash) and a node
 * just started that drops its first connection (the driver's "No connection available", which a read
 * of system.local right after may not see). A failure while the node answers is the step's own.
 * At `deadline` without an answer: a retryable error.
 */
export async function whenCqlAnswers<T>(
  ctx: StepContext,
  cql: CqlSession,
  deadline: number,
  why: string,
  reads: () => Promise<T>,
): Promise<T> {
  for (;;) {
    if (!(await waitForCql(ctx, cql, deadline, why)))
      throw new DroverError(`${why}: node ${cql.address} did not answer CQL by the deadline`, { retryable: true });
    try {
      return await reads();
    } catch (error) {
      if (ctx.signal.aborted || Date.now() > deadline) throw error;
      const dropped =
        error instanceof CassandraUnreachableError ||
        !(await readLocal(cql).then(
          () => true,
          () => false,
        ));
      if (!dropped) throw error;
      ctx.progress(
        `${why}: ${cql.address} stopped answering (${(error as Error).message}); asking again once it answers`,
      );
      await pause(1000, ctx.signal);
    }
  }
}
