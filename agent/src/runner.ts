// Runs one verified order's step: builds the step context, enforces the timeout, turns cancellation
// and errors into a result with an honest status, and caps the output it streams.
import type { AgentConfig, OrderResult, ResultStatus } from '@drover/shared';
import { DroverError } from '@drover/shared';
import { NO_SERVICES, type ServiceControl } from './clients/services/index.ts';
import type { Logger } from './log.ts';
import type {
  StepBucket,
  StepContext,
  StepImplementation,
  StepInfo,
  StepNode,
  StepProfiles,
  StepServices,
} from './steps/context.ts';

/** Output streamed per order before it is cut (the result says it was). */
const MAX_STREAMED_OUTPUT_BYTES = 256 * 1024;
const OUTPUT_CHUNK_BYTES = 16 * 1024;
/** At most this many progress events per second per order; the last one always goes out. */
const PROGRESS_MIN_INTERVAL_MS = 250;

export class CancelledReason extends DroverError {
  constructor(reason: string) {
    super(`cancelled: ${reason}`);
    this.name = 'CancelledError';
  }
}

export class TimeoutReason extends DroverError {
  constructor(timeoutMs: number) {
    super(`step did not finish within ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

export interface RunSinks {
  progress(message: string, percent: number | undefined): void;
  output(stream: 'stdout' | 'stderr' | 'agent', text: string): void;
}

export interface RunRequest {
  info: StepInfo;
  params: unknown;
  timeoutMs: number;
  implementation: StepImplementation;
  agent: { id: string; version: string; labels: Record<string, string>; commands: AgentConfig['commands'] };
  logger: Logger;
  sinks: RunSinks;
  /** Aborted by a cancel request for this order. */
  cancel: AbortSignal;
  /** The agent's services, for `ctx.services`. @default none: every name is refused */
  services?: ServiceControl;
  /** The node's declarations, for `ctx.node`. @default nothing declared */
  node?: StepNode;
  /** Central profiles, for `ctx.profiles`. */
  profiles?: StepProfiles;
  /** The customer's bucket as it is now, for `ctx.bucket`. */
  bucket?: () => StepBucket | undefined;
  /** The agent's state directory, for `ctx.stateDir`. */
  stateDir?: string;
}

export async function runStep(req: RunRequest): Promise<OrderResult> {
  const startedAt = Date.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new TimeoutReason(req.timeoutMs)), req.timeoutMs);
  const onCancel = () =>
    controller.abort(
      req.cancel.reason instanceof Error ? req.cancel.reason : new CancelledReason(String(req.cancel.reason)),
    );
  if (req.cancel.aborted) onCancel();
  else req.cancel.addEventListener('abort', onCancel, { once: true });

  let streamed = 0;
  let truncatedNoted = false;
  let lastProgressAt = 0;
  const ctx: StepContext = {
    info: req.info,
    signal: controller.signal,
    logger: req.logger,
    agent: req.agent,
    services: stepServices(req.services ?? NO_SERVICES, controller.signal),
    node: req.node ?? {},
    ...(req.profiles ? { profiles: req.profiles } : {}),
    ...(req.bucket?.() ? { bucket: req.bucket() } : {}),
    ...(req.stateDir ? { stateDir: req.stateDir } : {}),
    progress(message, percent) {
      const now = Date.now();
      if (now - lastProgressAt < PROGRESS_MIN_INTERVAL_MS && percent !== 100) return;
      lastProgressAt = now;
      req.sinks.progress(message.slice(0, 4096), percent);
    },
    output(stream, text) {
      if (streamed >= MAX_STREAMED_OUTPUT_BYTES) {
        if (!truncatedNoted)
          req.sinks.output('agent', `[output beyond ${MAX_STREAMED_OUTPUT_BYTES} bytes not streamed]`);
        truncatedNoted = true;
        return;
      }
      const allowed = text.slice(0, MAX_STREAMED_OUTPUT_BYTES - streamed);
      streamed += allowed.length;
      for (let i = 0; i < allowed.length; i += OUTPUT_CHUNK_BYTES)
        req.sinks.output(stream, allowed.slice(i, i + OUTPUT_CHUNK_BYTES));
    },
  };

  const base = {
    orderId: req.info.orderId,
    jobId: req.info.jobId,
    agentId: req.info.agentId,
    step: req.info.step,
    startedAt,
  };
  try {
    const raw = await req.implementation.run(ctx, req.params as never);
    if (controller.signal.aborted) return aborted(base, controller.signal.reason);
    const checked = req.implementation.definition.result.safeParse(raw);
    if (!checked.success) {
      return finish(base, 'failed', undefined, {
        name: 'InvalidStepResultError',
        message: `step returned a result that does not match its schema: ${checked.error.issues[0]?.message ?? 'invalid'}`,
        retryable: false,
      });
    }
    return finish(base, 'succeeded', checked.data);
  } catch (error) {
    if (controller.signal.aborted) return aborted(base, controller.signal.reason);
    const err = error instanceof Error ? error : new Error(String(error));
    const details = (err as { details?: unknown }).details;
    return finish(base, 'failed', details, {
      name: err.name || 'Error',
      message: err.message.slice(0, 4096),
      retryable: err instanceof DroverError ? err.retryable : false,
    });
  } finally {
    clearTimeout(timer);
    req.cancel.removeEventListener('abort', onCancel);
  }
}

/** Services by name for one step, bound to its signal (cancellation and timeout reach them). */
function stepServices(services: ServiceControl, signal: AbortSignal): StepServices {
  return {
    start: (name) => services.start(name, { signal }),
    stop: (name) => services.stop(name, { signal }),
    restart: (name) => services.restart(name, { signal }),
    status: (name) => services.status(name, { signal }),
  };
}

function aborted(base: Omit<OrderResult, 'status' | 'finishedAt'>, reason: unknown): OrderResult {
  if (reason instanceof TimeoutReason)
    return finish(base, 'timed-out', undefined, { name: reason.name, message: reason.message, retryable: true });
  const message = reason instanceof Error ? reason.message : String(reason);
  return finish(base, 'cancelled', undefined, { name: 'CancelledError', message, retryable: false });
}

function finish(
  base: Omit<OrderResult, 'status' | 'finishedAt'>,
  status: ResultStatus,
  output?: unknown,
  error?: OrderResult['error'],
): OrderResult {
  return {
    ...base,
    status,
    finishedAt: Date.now(),
    ...(output === undefined ? {} : { output }),
    ...(error ? { error } : {}),
  };
}
