// `cassandra.node-prepare`: makes the node's rebuilds resumable. Cassandra aborts a later rebuild of a
// keyspace that finds ranges already recorded (CASSANDRA-17679) unless the JVM runs with
// -Dcassandra.reset_bootstrap_progress=false; a consistent rebuild runs one rebuild per source and
// keyspace, so without it the second one aborts. The step adds the option to the node's JVM options
// file (LOCAL config), starts the node if it is stopped or restarts it if it runs without the
// property, waits until it answers, and reports the property as the RUNNING node sees it.
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { cassandraNodePrepareStep, DroverError, RESET_BOOTSTRAP_PROGRESS } from '@drover/shared';
import { readLocal, readSystemProperty } from '../../clients/cassandra/index.ts';
import { implementStep } from '../context.ts';
import { waitForCql, whenCqlAnswers, withCassandra } from './node.ts';

const OPTION = `-D${RESET_BOOTSTRAP_PROGRESS}=false`;

/** Adds (or corrects) the option line in a JVM options file; true when the file changed. */
export function ensureJvmOption(file: string): boolean {
  let text = '';
  let mode = 0o644;
  try {
    text = readFileSync(file, 'utf8');
    mode = statSync(file).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const lines = text.split('\n');
  const key = `-D${RESET_BOOTSTRAP_PROGRESS}=`;
  if (lines.some((l) => l.trim() === OPTION)) return false;
  const kept = lines.filter((l) => !l.trim().startsWith(key));
  while (kept.length > 0 && kept.at(-1) === '') kept.pop();
  kept.push('# Drover: later rebuilds skip recorded ranges instead of aborting (CASSANDRA-17679)', OPTION, '');
  const tmp = `${file}.drover-tmp`;
  writeFileSync(tmp, kept.join('\n'), { mode });
  renameSync(tmp, file);
  return true;
}

export const cassandraNodePrepareImplementation = implementStep(cassandraNodePrepareStep, (ctx, params) =>
  withCassandra(ctx, async ({ config, cql, nodetool }) => {
    const optionWritten = ensureJvmOption(config.jvmOptionsFile);
    if (optionWritten) ctx.progress(`added ${OPTION} to ${config.jvmOptionsFile}`);
    const services = ctx.services;
    if (!services) throw new DroverError('this agent has no local services to start Cassandra with');
    let started = false;
    let restarted = false;
    const status = await services.status(config.service);
    if (status.state !== 'running') {
      if (!params.start)
        throw new DroverError(`service ${config.service} is ${status.state} and params.start is false`);
      ctx.progress(`starting service ${config.service}`);
      await services.start(config.service);
      started = true;
    } else {
      const ready = await waitForCql(ctx, cql, Date.now() + params.readyTimeoutMs, 'checking the running node');
      const value = ready ? await readSystemProperty(cql, RESET_BOOTSTRAP_PROGRESS) : null;
      if (value !== 'false') {
        if (!params.restart)
          throw new DroverError(
            `node runs with ${RESET_BOOTSTRAP_PROGRESS}=${value ?? '(unset)'} and params.restart is false; restart it to apply ${OPTION}`,
          );
        ctx.progress(
          `restarting service ${config.service}: the running node has ${RESET_BOOTSTRAP_PROGRESS}=${value ?? '(unset)'}`,
        );
        await nodetool.run(['drain'], { signal: ctx.signal, timeoutMs: 300_000 }).catch((error: Error) => {
          ctx.logger.warn('nodetool drain before restart failed', { error: error.message });
        });
        await services.restart(config.service);
        restarted = true;
      }
    }
    const { local, value } = await whenCqlAnswers(
      ctx,
      cql,
      Date.now() + params.readyTimeoutMs,
      'node start',
      async () => ({
        local: await readLocal(cql),
        value: await readSystemProperty(cql, RESET_BOOTSTRAP_PROGRESS),
      }),
    );
    return {
      resetBootstrapProgress: value,
      resumable: value === 'false',
      optionWritten,
      started,
      restarted,
      datacenter: local.dc,
      rack: local.rack,
      address: local.address,
    };
  }),
);
