/**
 * Preloaded into the collector by a test (`node --import`): on each SIGUSR2 it
 * throws from a timer callback and leaves a promise rejection unhandled, as a
 * component's bug would, so the test can watch what the process does with them.
 */
process.on('SIGUSR2', () => {
  setTimeout(() => {
    throw new Error('thrown on purpose');
  }, 0);
  void Promise.reject(new Error('rejected on purpose'));
});
