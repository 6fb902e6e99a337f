// The real clock: performance.now() for intervals, Date for API timestamps, unref'd timers.
import type { Clock } from '../core/clock.ts';

export const systemClock: Clock = {
  now: () => performance.now(),
  wallTime: () => new Date(),
  after(ms, fn) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return {
      cancel: () => {
        clearTimeout(handle);
      },
    };
  },
};
