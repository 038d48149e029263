// A stand-in service for processes.test.ts: prints "line 1" once it listens for SIGUSR2, then one
// more numbered line on every SIGUSR2, so the test decides exactly when a new line appears.
let count = 1;
process.on('SIGUSR2', () => {
  count += 1;
  process.stdout.write(`line ${count}\n`);
});
process.stdout.write(`line ${count}\n`);
// Stays alive until killed.
setInterval(() => {}, 60_000);
