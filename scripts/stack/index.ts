// The local stack's programmatic API: `ensureStack` returns only once both the broker and the
// schema registry answer, starting (under a cross-process lock) whatever is not running; the
// processes it starts are detached and keep running after the caller exits.
import { kafkaAnswers, kafkaPid, killKafka, startKafka, stopKafka } from './kafka.ts';
import { StackError } from './errors.ts';
import { brokers, controllerPort, kafkaPort, registryManagementPort, registryPort, registryUrl } from './layout.ts';
import { withStackLock } from './lock.ts';
import { checkPortsFree } from './prerequisites.ts';
import { registryAnswers, registryPid, startRegistry, stopRegistry } from './registry.ts';

export { StackError, type StackErrorCode } from './errors.ts';
export { kafkaClasspath, kafkaToolsLog4jOption } from './kafka.ts';
export { brokers, registryUrl } from './layout.ts';

export interface StackOptions {
  log?: (line: string) => void;
}

export interface StackEndpoints {
  brokers: string;
  registryUrl: string;
  /** True when this call started at least one of the two processes. */
  startedByUs: boolean;
}

export interface StackStatus {
  kafka: { running: boolean; pid?: number };
  registry: { running: boolean; pid?: number };
}

const silent = (): void => {};

/** Both ours and both answering: the common case for every caller after the first. */
async function alreadyUp(): Promise<boolean> {
  const [kafka, registry] = await Promise.all([kafkaPid(), registryPid()]);
  if (kafka === undefined || registry === undefined) return false;
  const [kafkaReady, registryReady] = await Promise.all([kafkaAnswers(), registryAnswers()]);
  return kafkaReady && registryReady;
}

/** Fails before starting anything, rather than after the broker is up, when a port is taken. */
async function checkPortsOfStoppedServices(): Promise<void> {
  const [kafka, registry] = await Promise.all([kafkaPid(), registryPid()]);
  if (kafka === undefined) await checkPortsFree('Kafka broker', [kafkaPort, controllerPort]);
  if (registry === undefined) await checkPortsFree('schema registry', [registryPort, registryManagementPort]);
}

export async function ensureStack(opts: StackOptions = {}): Promise<StackEndpoints> {
  const log = opts.log ?? silent;
  if (await alreadyUp()) return { brokers, registryUrl, startedByUs: false };
  return withStackLock(log, async () => {
    await checkPortsOfStoppedServices();
    // The registry keeps its schemas in Kafka, so the broker must answer before it boots.
    const kafka = await startKafka(log);
    const registry = await startRegistry(log);
    return { brokers, registryUrl, startedByUs: kafka.startedByUs || registry.startedByUs };
  });
}

export async function stopStack(opts: StackOptions = {}): Promise<void> {
  const log = opts.log ?? silent;
  await withStackLock(log, async () => {
    // Registry first: stopped after the broker it would spin on reconnecting until killed.
    await stopRegistry(log);
    await stopKafka(log);
  });
}

export interface KafkaRestart {
  /** From the stop request until the broker process was gone. */
  stopMs: number;
  /** From the stop request until the broker answered again. */
  downMs: number;
}

/**
 * Stops the broker alone (SIGTERM and a clean shutdown, or SIGKILL when `hard`) and starts it
 * again on the same data dir; the registry stays up and reconnects by itself. For the fault
 * campaign. Holding the stack lock makes concurrent `ensureStack` callers wait instead of
 * starting a second broker.
 */
export async function restartKafka(opts: StackOptions & { hard?: boolean } = {}): Promise<KafkaRestart> {
  const log = opts.log ?? silent;
  return withStackLock(log, async () => {
    if ((await kafkaPid()) === undefined) throw new StackError('NOT_RUNNING', 'the embedded Kafka broker is not running: nothing to restart (`npm run stack -- start`)');
    const startedMs = Date.now();
    await (opts.hard ? killKafka(log) : stopKafka(log));
    const stopMs = Date.now() - startedMs;
    await startKafka(log);
    return { stopMs, downMs: Date.now() - startedMs };
  });
}

/** What runs from this stack folder; `running` means the process is alive, not that it answers. */
export async function stackStatus(): Promise<StackStatus> {
  const [kafka, registry] = await Promise.all([kafkaPid(), registryPid()]);
  return {
    kafka: kafka === undefined ? { running: false } : { running: true, pid: kafka },
    registry: registry === undefined ? { running: false } : { running: true, pid: registry },
  };
}
