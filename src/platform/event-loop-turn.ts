// Yielding to the event loop: work that needs no I/O (a run of reconciles that find nothing to write) awaits this
// between steps, so timers and sockets (the leader Lease's renewal above all) are served in between.

/** Resolves on the next turn of the event loop, after pending I/O callbacks and due timers have run. */
export function nextEventLoopTurn(): Promise<void> {
  return new Promise((resolve) => {
    setImmediate(resolve);
  });
}
