// Bounded waits on a child service's end: a test that expects a process to die (a crash point, a
// fatal exit) fails with the process's last lines instead of hanging when it does not.
import type { ServiceProcess } from './processes.ts';

/** The exit code or signal of `service` within the bound; it is SIGKILLed when it does not end. */
export async function exitWithin(service: ServiceProcess, withinMs: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the process did not end within ${withinMs} ms; last lines:\n${service.lines.slice(-30).join('\n')}`)), withinMs);
  });
  try {
    return await Promise.race([service.exited, late]);
  } finally {
    clearTimeout(timer);
    await service.kill('SIGKILL');
  }
}
