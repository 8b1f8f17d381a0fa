// A step's wait between polls: returns after `ms`, or at once when the step is cancelled or times out
// (the caller then checks `signal`), so a polling step never outlives its order.
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
