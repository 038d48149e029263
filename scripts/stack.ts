// `npm run stack -- start|stop|status`: the embedded Kafka + schema registry for development, tests
// and CI. Exits non-zero with the error's advice when the stack cannot be brought up.
import { ensureStack, stackStatus, StackError, stopStack } from './stack/index.ts';
import { kafkaAnswers } from './stack/kafka.ts';
import { brokers, registryUrl, stackDir } from './stack/layout.ts';
import { registryAnswers } from './stack/registry.ts';

const usage = 'usage: npm run stack -- start|stop|status';
const log = (line: string): void => console.log(`[stack] ${line}`);

async function start(): Promise<void> {
  const startedAtMs = Date.now();
  const result = await ensureStack({ log });
  const seconds = ((Date.now() - startedAtMs) / 1000).toFixed(1);
  const verb = result.startedByUs ? `started in ${seconds} s` : 'already running';
  log(`${verb}: brokers=${result.brokers} registry=${result.registryUrl}`);
}

async function status(): Promise<boolean> {
  const state = await stackStatus();
  const [kafkaReady, registryReady] = await Promise.all([kafkaAnswers(), registryAnswers()]);
  const describe = (running: boolean, pid: number | undefined, ready: boolean, endpoint: string): string =>
    running ? `running (pid ${pid}) at ${endpoint}, ${ready ? 'answering' : 'NOT answering'}` : 'stopped';
  console.log(`stack dir: ${stackDir()}`);
  console.log(`kafka:     ${describe(state.kafka.running, state.kafka.pid, kafkaReady, brokers)}`);
  console.log(`registry:  ${describe(state.registry.running, state.registry.pid, registryReady, registryUrl)}`);
  return state.kafka.running && state.registry.running && kafkaReady && registryReady;
}

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case 'start':
      await start();
      return 0;
    case 'stop':
      await stopStack({ log });
      log('stopped');
      return 0;
    case 'status':
      // Exit 3 when not fully up, as `systemctl status` does, so scripts can test it.
      return (await status()) ? 0 : 3;
    default:
      console.error(usage);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv[2]);
} catch (error) {
  if (!(error instanceof StackError)) throw error;
  console.error(`[stack] ${error.code}: ${error.message}`);
  process.exitCode = 1;
}
