// `sleep`: waits in one-second ticks with a progress event per tick; returns early on abort
// (the runner then reports cancelled or timed-out from the abort reason).
import { sleepStep } from '@drover/shared';
import { implementStep } from './context.ts';

export const sleepImplementation = implementStep(sleepStep, async (ctx, params) => {
  const started = Date.now();
  const totalMs = params.seconds * 1000;
  while (Date.now() - started < totalMs) {
    const left = totalMs - (Date.now() - started);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.min(1000, left));
      ctx.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
    ctx.signal.throwIfAborted();
    const elapsed = Date.now() - started;
    ctx.progress(
      `slept ${Math.round(elapsed / 1000)}s of ${params.seconds}s`,
      Math.min(100, (elapsed / Math.max(totalMs, 1)) * 100),
    );
  }
  return { sleptMs: Date.now() - started };
});
