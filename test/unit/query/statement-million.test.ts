// A statement of 1,000,000 entries streams with flat memory and parses as RFC 4180 CSV. The
// entries are written straight into a real view store through the pure fold (no Kafka: the
// broker is not what is tested here), then exported over real HTTP and parsed as a stream with
// csv-parse, so neither side ever holds the whole file (~78 MB). Its own file: it takes about
// 55-105 s on a loaded two-core machine (25-45 s to write the store, 30-60 s to export and parse).
// A server that builds the file before sending it fails it: +76 MiB live heap, +390 MiB rss.
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parse } from 'csv-parse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountEvent, EventPayload } from '../../../schemas/types.ts';
import { buildApp } from '../../../processors/query/routes.ts';
import { ViewStores } from '../../../processors/query/stores.ts';
import { VersionWaiters } from '../../../processors/query/waiters.ts';
import { applyEvents } from '../../../processors/query/views/index.ts';
import { statementColumns } from '../../../processors/query/statement.ts';
import { adminHeaders, testDirectory } from '../../support/keys.ts';

const entries = 1_000_000;
const accountId = '00000000-0000-4000-8000-000000000001';
const t0 = Date.UTC(2024, 0, 1);
/** Live heap and buffers (after a full GC) may grow this much while the ~78 MB file streams; holding it would take more than it is big. */
const memoryGrowthBytesMax = 16 * 1024 * 1024;
const testTimeoutMs = 240_000;

let dir: string;
let stores: ViewStores;
let app: ReturnType<typeof buildApp>;
let finalBalance = 0;

/** Deposits of 1..97 and, every third entry, a withdrawal of half that: the balance never goes negative. */
function payload(sequence: number, balance: number): EventPayload {
  if (sequence === 1) return { type: 'AccountOpened', ownerName: 'Ada "the Countess", Lovelace', currency: 'EUR', initialBalance: 0, overdraftLimit: 0 };
  const amount = 1 + (sequence % 97);
  if (sequence % 3 === 0 && balance >= amount) return { type: 'MoneyWithdrawn', amount, balanceAfter: balance - amount, reference: sequence % 6 === 0 ? 'cash, "atm"' : null };
  return { type: 'MoneyDeposited', amount, balanceAfter: balance + amount, reference: sequence % 5 === 0 ? `line\n${sequence}` : null };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'query-statement-million-'));
  stores = new ViewStores(dir, 'test.events', 1);
  const { store } = await stores.openPartition(0);
  let row;
  const chunk = 5000; // batchEventsMax: as the consumer writes
  for (let first = 1; first <= entries; first += chunk) {
    const events: AccountEvent[] = [];
    for (let sequence = first; sequence < first + chunk && sequence <= entries; sequence += 1) {
      const p = payload(sequence, finalBalance);
      if ('balanceAfter' in p) finalBalance = p.balanceAfter;
      events.push({ eventId: `${accountId}:${sequence}`, accountId, sequence, commandId: `c${sequence}`, occurredAt: t0 + sequence * 1000, payload: p });
    }
    const changes = applyEvents(new Map([[accountId, row]]), events);
    row = changes.accounts.get(accountId);
    await store.write(changes, BigInt(first + chunk));
  }
  app = buildApp({ views: stores, waiters: new VersionWaiters(10), readiness: () => ({ ready: true, partitions: [] }), minVersionWaitMs: 10, keys: testDirectory() });
  await app.listen({ host: '127.0.0.1', port: 0 });
}, testTimeoutMs);

afterAll(async () => {
  await app?.close();
  await stores?.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

// A full GC before each sample, so what is measured is what is held, not garbage not yet collected.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const memory = () => {
  collectGarbage();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
};

describe('a statement of a million entries', () => {
  it('streams as CSV with flat memory, parses with csv-parse, and opening + credits − debits = closing', async () => {
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    // Before the request: a server that built the file before answering would already have grown.
    const baseline = memory();
    const rssBaseline = process.memoryUsage().rss;
    let peak = baseline;
    let rssPeak = rssBaseline;
    const response = await new Promise<import('node:http').IncomingMessage>((resolve, reject) =>
      get({ host: '127.0.0.1', port, path: `/api/v1/accounts/${accountId}/statement?format=csv&minVersion=${entries}`, headers: adminHeaders }, resolve).on('error', reject),
    );
    expect(response.statusCode).toBe(200);
    let bytes = 0;
    response.on('data', (data: Buffer) => (bytes += data.length));
    let rows = 0;
    let credits = 0;
    let debits = 0;
    let signsAgree = true;
    let last: Record<string, string> | undefined;
    let header: string[] = [];
    const sum = new Writable({
      objectMode: true,
      write(record: Record<string, string>, _encoding, done) {
        const signed = Number(record.signedAmount);
        if (signed > 0) credits += signed;
        else debits -= signed;
        const expected = record.type === 'MoneyWithdrawn' ? -Number(record.amount) : Number(record.amount);
        if (signed !== expected || Number(record.sequence) !== rows + 1) signsAgree = false;
        rows += 1;
        last = record;
        if (rows % 50_000 === 0) {
          peak = Math.max(peak, memory());
          rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
        }
        done();
      },
    });
    await pipeline(response, parse({ columns: (names: string[]) => (header = names) }), sum);
    console.log(`statement: ${bytes} bytes, memory grew ${((peak - baseline) / 1048576).toFixed(1)} MiB, rss ${((rssPeak - rssBaseline) / 1048576).toFixed(1)} MiB at most`);
    expect(header).toEqual([...statementColumns]);
    expect(rows).toBe(entries);
    expect(signsAgree).toBe(true);
    expect(Number(last?.balanceAfter)).toBe(finalBalance);
    expect(0 + credits - debits).toBe(finalBalance);
    expect(bytes).toBeGreaterThan(4 * memoryGrowthBytesMax);
    expect(peak - baseline).toBeLessThan(memoryGrowthBytesMax);
    // Memory outside the heap too (a socket's queued copy of a built file lives there).
    expect(rssPeak - rssBaseline).toBeLessThan(4 * memoryGrowthBytesMax);
  }, testTimeoutMs);
});
