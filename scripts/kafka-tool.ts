// `npm run kafka -- <tool> [args]`: Kafka's own CLI tools, run from the embedded stack's jars
// against its broker unless told otherwise; the tool's exit code becomes ours.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { brokers, kafkaClasspath, kafkaToolsLog4jOption, stackStatus, StackError } from './stack/index.ts';

// Verified against kafka-tools-3.9.2.jar and kafka_2.13-3.9.2.jar: ConsoleProducer and
// ConfigCommand have not moved out of the Scala core module in 3.9.
const toolMainClasses: Record<string, string> = {
  'topics': 'org.apache.kafka.tools.TopicCommand',
  'consumer-groups': 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  'console-consumer': 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  'console-producer': 'kafka.tools.ConsoleProducer',
  'get-offsets': 'org.apache.kafka.tools.GetOffsetShell',
  'configs': 'kafka.admin.ConfigCommand',
  'transactions': 'org.apache.kafka.tools.TransactionsCommand',
};

const toolHeap = '-Xmx512m';

function usage(): string {
  return `usage: npm run kafka -- <tool> [args]\ntools: ${Object.keys(toolMainClasses).join(', ')}\n` +
    `--bootstrap-server ${brokers} is added unless given.`;
}

function withBootstrap(args: string[]): string[] {
  const given = args.some((arg) => arg === '--bootstrap-server' || arg.startsWith('--bootstrap-server='));
  return given ? args : ['--bootstrap-server', brokers, ...args];
}

async function main(): Promise<number> {
  const [tool, ...args] = process.argv.slice(2);
  const mainClass = tool === undefined ? undefined : toolMainClasses[tool];
  if (mainClass === undefined) {
    console.error(tool === undefined || tool === '--help' ? usage() : `unknown tool ${JSON.stringify(tool)}\n${usage()}`);
    return 2;
  }
  const classpath = await kafkaClasspath({ log: (line) => console.error(`[kafka] ${line}`) });
  if (!args.some((arg) => arg.startsWith('--bootstrap-server')) && (await stackStatus()).kafka.running === false) {
    // Kafka's tools retry a missing broker for minutes before they say anything.
    console.error(`[kafka] the local stack is not running; start it with \`npm run stack -- start\``);
  }
  const javaArgs = [toolHeap, kafkaToolsLog4jOption(), '-cp', classpath, mainClass, ...withBootstrap(args)];
  const child = spawn('java', javaArgs, { stdio: 'inherit' });
  // Ctrl-C reaches the JVM through the shared terminal; we only wait for it to finish.
  process.on('SIGINT', () => {});
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    // Shell convention: death by signal N exits 128 + N.
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0)));
  });
}

try {
  process.exitCode = await main();
} catch (error) {
  if (!(error instanceof StackError)) throw error;
  console.error(`[kafka] ${error.code}: ${error.message}`);
  process.exitCode = 1;
}
