// waitForLine waits for lines printed after the call (or after a mark), never returning at once
// on a line printed before: tests that wait for "the next X" must really see a next X.
import { afterEach, expect, it } from 'vitest';
import { startService, type ServiceProcess } from '../../support/processes.ts';

let service: ServiceProcess | undefined;
/** Starting node with tsx takes seconds on a loaded 2-core machine. */
const spawnTestTimeoutMs = 60_000;

afterEach(async () => {
  await service?.kill('SIGKILL');
  service = undefined;
});

it('waits for a new line, not one printed before the call', async () => {
  service = startService('test/unit/support/line-printer.ts', {});
  expect(await service.waitForLine(/^line \d+$/)).toBe('line 1');
  const next = service.waitForLine(/^line \d+$/);
  service.child.kill('SIGUSR2');
  expect(await next).toBe('line 2');
}, spawnTestTimeoutMs);

it('counts lines printed since a mark taken before the line appeared', async () => {
  service = startService('test/unit/support/line-printer.ts', {});
  await service.waitForLine(/^line 1$/);
  const mark = service.mark();
  service.child.kill('SIGUSR2');
  await service.waitForLine(/^line 2$/);
  // Printed after the mark but before this call: found at once through `since`.
  expect(await service.waitForLine(/^line \d+$/, { since: mark })).toBe('line 2');
  expect(service.linesSince(mark)).toEqual(['line 2']);
}, spawnTestTimeoutMs);
