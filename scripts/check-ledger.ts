// `npm run check-ledger [-- --json] [--settled] [--stuck-after 5m] [--app-id ID] [--prefix P]`:
// reads every topic of the ledger (BANK_TOPIC_PREFIX, default `bank.`) from the beginning,
// read_committed, and checks the invariants of DESIGN §4 and §8 (scripts/ledger/check.ts). Exit 0:
// every invariant holds; 1: at least one violation, each with its kind; 2: the ledger could not be
// read (broker, registry or topics missing) or the arguments are wrong.
// Exact on a quiet ledger; on a live one, disagreements at the newest records may be transient,
// and the report says when records arrived during the read.
import { parseArgs } from 'node:util';
import { logLevel } from 'kafkajs';
import { endpoints, loadConfig } from '../topics/config.ts';
import { createKafka } from '../topics/kafka.ts';
import { topicNames } from '../topics/topics.ts';
import { LedgerRegistry, createCodecs } from '../schemas/registry.ts';
import { auditLedger, type AuditResult } from './ledger/audit.ts';
import { ledgerReadTimeoutMs } from './ledger/read.ts';
import { stuckAfterDefaultMs } from './ledger/check.ts';
import { formatTotals, formatViolations } from './ledger/report.ts';

/** Connecting, listing topics and reading offsets must answer within this; the read itself has ledgerReadTimeoutMs. */
const connectTimeoutMs = 20_000;
/** Few retries: an unreachable broker is reported in seconds, not after kafkajs' long backoff. */
const kafkaRetries = 3;

const usage = 'usage: npm run check-ledger -- [--json] [--settled] [--stuck-after DURATION] [--app-id ID] [--prefix PREFIX]';
const help = [
  usage,
  '  --settled             the ledger is quiet: every unanswered command and transfer in flight is a violation',
  `  --stuck-after D       a command unanswered or a transfer in flight longer than D is a violation (default ${stuckAfterDefaultMs / 60_000}m;`,
  '                        D is a number with ms, s, m or h; ages are measured against the clock at the start of the read)',
  '  --json                the report as JSON (violations, violationKinds, violationDetails)',
].join('\n');

class UsageError extends Error {}

/** `--stuck-after`: 300s, 5m, 1h, 1500ms. */
function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(text.trim());
  if (match === null) throw new UsageError(`--stuck-after ${text}: expected a number with ms, s, m or h (e.g. 5m)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function print(result: AuditResult, context: { prefix: string; json: boolean; settled: boolean; stuckAfterMs: number }): void {
  const { report } = result;
  if (context.json) {
    const { violations, violationCount, violationKinds, violationDetails, totals, pendingExamples, ok } = report;
    const out = { ok, prefix: context.prefix, processorGroup: result.processorGroup, settled: context.settled, stuckAfterMs: context.stuckAfterMs, arrivedDuringRead: result.arrivedDuringRead, readMs: result.readMs, totals, violationCount, violationKinds, violations, violationDetails, pendingExamples };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const lines = [`ledger ${context.prefix}* read in ${(result.readMs / 1000).toFixed(1)} s (processor group ${result.processorGroup})`, ...formatTotals(report.totals, '  ')];
  if (!result.processorCommitted && report.totals.commands > 0) lines.push(`  note: group ${result.processorGroup} has committed nothing: is APP_ID right? Unanswered commands count as not processed yet.`);
  if (report.pendingExamples.length > 0) lines.push('  not processed yet, e.g.:', ...report.pendingExamples.map((p) => `    ${p}`));
  if (result.arrivedDuringRead > 0) lines.push(`  note: ${result.arrivedDuringRead} records arrived while the ledger was read; disagreements at the newest records may be transient: rerun when it is quiet`);
  lines.push(...formatViolations(report, ''));
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { json: { type: 'boolean', default: false }, settled: { type: 'boolean', default: false }, 'stuck-after': { type: 'string' }, 'app-id': { type: 'string' }, prefix: { type: 'string' }, help: { type: 'boolean', default: false } },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  const stuckAfterMs = values['stuck-after'] === undefined ? stuckAfterDefaultMs : parseDuration(values['stuck-after']);
  const env = { ...process.env, ...(values.prefix !== undefined ? { BANK_TOPIC_PREFIX: values.prefix } : {}), ...(values['app-id'] !== undefined ? { APP_ID: values['app-id'] } : {}) };
  const config = loadConfig(env);
  const { brokers, registryUrl } = endpoints(config);
  const verbose = process.env.KAFKAJS_LOG_LEVEL !== undefined;
  const kafka = createKafka(brokers, `${config.appId}.check-ledger`, { retry: { initialRetryTime: 200, maxRetryTime: 2000, retries: kafkaRetries }, ...(verbose ? {} : { logLevel: logLevel.NOTHING }) });
  const topics = topicNames(config.topicPrefix);
  const codecs = () => withTimeout(createCodecs(new LedgerRegistry(registryUrl), config.topicPrefix), connectTimeoutMs, `the schema registry at ${registryUrl}`);
  const audit = auditLedger({ kafka, codecs, topics, appId: config.appId, settled: values.settled, stuckAfterMs });
  const result = await withTimeout(audit, connectTimeoutMs + ledgerReadTimeoutMs, `the broker at ${brokers.join(',')}`);
  print(result, { prefix: config.topicPrefix, json: values.json, settled: values.settled, stuckAfterMs });
  return result.report.ok ? 0 : 1;
}

// Explicit exits: a client still retrying in the background must not keep the process alive.
try {
  process.exit(await main());
} catch (error) {
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) process.stderr.write(`check-ledger: ${(error as Error).message}\n${usage}\n`);
  else process.stderr.write(`check-ledger: could not read the ledger: ${(error as Error).message}\n`);
  process.exit(2);
}
