// A full chunk (transactionCommandsMax commands of a busy partition) writes more than one record
// batch may hold: its outcomes alone came to about 1.1 MB for one partition in bench:processor,
// over the broker's 1 MiB record batch limit (message.max.bytes). The broker refused the produce
// with MESSAGE_TOO_LARGE, the partition failed and retried from its last commit, and only a
// smaller batch fetched on a later try got through; partitionFailuresMax such refusals in a row
// stop the process. A transaction's records are now sent in parts under
// producedBytesPerPartitionMax per partition, so a full chunk commits at the first try.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Partitioners } from 'kafkajs';
import { createTestLedger, waitFor, type TestLedger } from '../support/ledger.ts';
import { startService } from '../support/processes.ts';
import { generateWorkload } from '../../scripts/workload.ts';
import { auditLedger } from '../../scripts/ledger/audit.ts';
import { checkLedger } from '../../scripts/ledger/check.ts';
import { readLedger } from '../../scripts/ledger/read.ts';
import { freePort } from '../../scripts/services.ts';

let ledger: TestLedger;

beforeAll(async () => {
  // Two partitions, so each one's first fetch holds more than a full chunk.
  ledger = await createTestLedger('processor-large-chunks', { partitions: 2 });
});

afterAll(async () => {
  await ledger?.close();
});

for (const scope of ['partition', 'instance'] as const) {
  it(`full chunks commit at the first try (ACCOUNT_TRANSACTIONS=${scope})`, async () => {
    // The bench's workload, pre-loaded before the processor starts, as bench:processor does.
    const commands = generateWorkload({ seed: scope === 'partition' ? 41 : 42, commands: 30000, accounts: 1000 });
    const producer = ledger.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    for (let i = 0; i < commands.length; i += 5000) {
      await producer.send({ topic: ledger.topics.commands, acks: -1, messages: commands.slice(i, i + 5000).map((c) => ({ key: c.accountId, value: ledger.codecs.commands.encode(c) })) });
    }
    await producer.disconnect();

    const appId = `${ledger.config.appId}-${scope}`;
    const metricsPort = await freePort();
    const env = { ...ledger.env, ACCOUNT_TRANSACTIONS: scope, APP_ID: appId, DATA_DIR: `${ledger.config.dataDir}/${scope}` };
    const processor = startService('processors/account/main.ts', { ...env, ACCOUNT_STATS_INTERVAL_MS: '500', ACCOUNT_METRICS_PORT: String(metricsPort), ACCOUNT_METRICS_HOST: '127.0.0.1' });
    let exit: number | string = 'running';
    try {
      await processor.waitForLine(/account processor started/);
      const audit = () => auditLedger({ kafka: ledger.kafka, codecs: async () => ledger.codecs, topics: ledger.topics, appId });
      // Settled: every command answered, no transfer in flight, nothing arriving. A partition refused
      // again and again stops the process (partitionFailuresMax): the wait ends there.
      const settled = await waitFor(
        async () => {
          const fatal = processor.lines.find((l) => l.includes('cannot continue'));
          if (fatal !== undefined) return { fatal };
          const { report, arrivedDuringRead } = await audit();
          return report.totals.pendingCommands === 0 && report.totals.transfers.pending === 0 && arrivedDuringRead === 0 ? { report } : undefined;
        },
        { what: 'the ledger settled', timeoutMs: 120_000, intervalMs: 1000 },
      );
      expect(settled.fatal?.slice(0, 400) ?? 'kept running').toBe('kept running');
      // The largest transaction really was a full chunk, or this test shows nothing.
      const largest = Math.max(0, ...processor.lines.filter((l) => l.includes('"msg":"progress"')).map((l) => Number((JSON.parse(l) as { chunkCommandsMax?: number }).chunkCommandsMax ?? 0)));
      expect(largest, 'a chunk of at least 1,500 commands was decided').toBeGreaterThanOrEqual(1500);
      const failures = processor.lines.filter((l) => l.includes('partition failed') || l.includes('cannot continue'));
      expect(failures).toEqual([]);
      // And some transactions did need several produce requests.
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const requests = (api: string) => Number(new RegExp(`^account_producer_requests_total\\{api="${api}"\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0);
      expect(requests('EndTxn')).toBeGreaterThan(0);
      expect(requests('Produce'), 'produce requests, against as many transactions').toBeGreaterThan(requests('EndTxn'));
    } finally {
      exit = await processor.kill('SIGTERM');
    }
    expect(exit).toBe(0);
    // The store's checkpoint is where the last request of each transaction ended: restarted on the
    // same store, no partition reads a changelog record again (only the commit markers follow it).
    const again = startService('processors/account/main.ts', env);
    try {
      const ready = await waitFor(() => {
        const lines = again.lines.filter((l) => l.includes('partition ready'));
        return lines.length >= ledger.config.partitions ? lines.map((l) => JSON.parse(l) as Record<string, unknown>) : undefined;
      }, { what: 'both partitions ready again', timeoutMs: 60_000 });
      expect(ready.map((r) => [r.restoredStates, r.restoredOutcomes, r.restoredMovements])).toEqual(ready.map(() => [0, 0, 0]));
    } finally {
      await again.kill('SIGTERM');
    }
    const snapshot = await readLedger(ledger.kafka, ledger.codecs, ledger.topics, `${appId}.check`);
    const report = checkLedger(snapshot);
    expect(report.violations).toEqual([]);
  }, 240_000);
}
