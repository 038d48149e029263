// `npm run check-ledger [-- --json] [--settled] [--app-id ID] [--prefix P]`: reads every topic of
// the ledger (BANK_TOPIC_PREFIX, default `bank.`) from the beginning, read_committed, and checks
// the invariants of DESIGN §4 (scripts/ledger/check.ts). Exit 0: every invariant holds; 1: at
// least one violation; 2: the ledger could not be read (broker, registry or topics missing).
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
import { formatTotals, formatViolations } from './ledger/report.ts';

/** Connecting, listing topics and reading offsets must answer within this; the read itself has ledgerReadTimeoutMs. */
const connectTimeoutMs = 20_000;
/** Few retries: an unreachable broker is reported in seconds, not after kafkajs' long backoff. */
const kafkaRetries = 3;

const usage = 'usage: npm run check-ledger -- [--json] [--settled] [--app-id ID] [--prefix PREFIX]';

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function print(result: AuditResult, context: { prefix: string; json: boolean; settled: boolean }): void {
  const { report } = result;
  if (context.json) {
    const { violations, violationCount, totals, pendingExamples, ok } = report;
    const out = { ok, prefix: context.prefix, processorGroup: result.processorGroup, settled: context.settled, arrivedDuringRead: result.arrivedDuringRead, readMs: result.readMs, totals, violationCount, violations, pendingExamples };
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
    options: { json: { type: 'boolean', default: false }, settled: { type: 'boolean', default: false }, 'app-id': { type: 'string' }, prefix: { type: 'string' }, help: { type: 'boolean', default: false } },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${usage}\n  --settled  the ledger is quiet: unprocessed commands and transfers in flight are violations\n`);
    return 0;
  }
  const env = { ...process.env, ...(values.prefix !== undefined ? { BANK_TOPIC_PREFIX: values.prefix } : {}), ...(values['app-id'] !== undefined ? { APP_ID: values['app-id'] } : {}) };
  const config = loadConfig(env);
  const { brokers, registryUrl } = endpoints(config);
  const verbose = process.env.KAFKAJS_LOG_LEVEL !== undefined;
  const kafka = createKafka(brokers, `${config.appId}.check-ledger`, { retry: { initialRetryTime: 200, maxRetryTime: 2000, retries: kafkaRetries }, ...(verbose ? {} : { logLevel: logLevel.NOTHING }) });
  const topics = topicNames(config.topicPrefix);
  const codecs = () => withTimeout(createCodecs(new LedgerRegistry(registryUrl), config.topicPrefix), connectTimeoutMs, `the schema registry at ${registryUrl}`);
  const audit = auditLedger({ kafka, codecs, topics, appId: config.appId, settled: values.settled });
  const result = await withTimeout(audit, connectTimeoutMs + ledgerReadTimeoutMs, `the broker at ${brokers.join(',')}`);
  print(result, { prefix: config.topicPrefix, json: values.json, settled: values.settled });
  return result.report.ok ? 0 : 1;
}

// Explicit exits: a client still retrying in the background must not keep the process alive.
try {
  process.exit(await main());
} catch (error) {
  process.stderr.write(`check-ledger: could not read the ledger: ${(error as Error).message}\n`);
  process.exit(2);
}
