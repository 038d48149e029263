// The account list filtered by metadata (DESIGN §11) against the real broker: a scripted log with
// metadata, written through Kafka transactions to several partitions, reaches a real query
// processor; every metadata filter, alone, combined, and with the other filters, pages through
// exactly the accounts the model bank says, and accounts and history show the metadata.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestLedger, waitFor, type TestLedger } from '../support/ledger.ts';
import { allPages, EventWriter, getJson, ModelBank, startQuery, type InProcessQuery, type ModelAccount, type ModelEntry } from './query-support.ts';

let ledger: TestLedger;
let writer: EventWriter;
let query: InProcessQuery | undefined;
const bank = new ModelBank();
const base = () => query!.processor.url;
const segments = ['retail', 'wholesale', 'private'];

beforeAll(async () => {
  ledger = await createTestLedger('query-metadata', { partitions: 3 });
  writer = await EventWriter.start(ledger);
  // 90 accounts over three partitions: a segment each (a third of them per segment), a region on
  // every second one, nothing on every ninth; deposits and transfers give their histories metadata too.
  for (let n = 0; n < 90; n += 1) {
    const metadata: Record<string, string> = n % 9 === 8 ? {} : { segment: segments[n % 3]!, ...(n % 2 === 0 ? { region: 'eu' } : {}) };
    const id = bank.open(n % 4 === 0 ? `Ada ${n}` : `Grace ${n}`, n % 5 === 0 ? 'USD' : 'EUR', 100, metadata);
    bank.deposit(id, n + 1);
  }
  const ids = [...bank.accounts.keys()];
  for (let n = 1; n < 20; n += 1) {
    const [from, to] = [ids[n]!, ids[n + 20]!];
    if (bank.accounts.get(from)!.currency === bank.accounts.get(to)!.currency) bank.transfer(from, to, 5, 'completed');
  }
  await writer.write(bank.drain());
  query = await startQuery(ledger);
  await waitFor(async () => ((await getJson(base(), '/ready')).status === 200 ? true : undefined), { what: '/ready', timeoutMs: 120_000 });
});

afterAll(async () => {
  await query?.processor.stop();
  await writer?.stop();
  await ledger?.close();
});

const modelIds = (keep: (a: ModelAccount) => boolean): string[] => [...bank.accounts.values()].filter(keep).map((a) => a.accountId).sort();
const listed = async (filters: string, limit: number): Promise<string[]> => (await allPages<ModelAccount>(base(), `/api/v1/accounts?${filters}`, limit)).map((a) => a.accountId);

describe('the account list filtered by metadata, on the broker', () => {
  it('shows accounts and history with their metadata, as the model bank has them', async () => {
    // The views catch up with the whole log first: every account at its model version.
    for (const account of bank.accounts.values()) {
      const { status, body } = await getJson(base(), `/api/v1/accounts/${account.accountId}?minVersion=${account.version}`);
      expect(status).toBe(200);
      expect(body).toEqual(account);
    }
    const [someone] = bank.accounts.values();
    const history = await getJson(base(), `/api/v1/accounts/${someone!.accountId}/history`);
    expect(history.body.items).toEqual([...(bank.history.get(someone!.accountId) as ModelEntry[])].reverse());
  });

  it.each([
    ['one metadata key', 'metadata.segment=retail', (a: ModelAccount) => a.metadata.segment === 'retail'],
    ['two metadata keys', 'metadata.segment=wholesale&metadata.region=eu', (a: ModelAccount) => a.metadata.segment === 'wholesale' && a.metadata.region === 'eu'],
    ['metadata and currency', 'metadata.region=eu&currency=USD', (a: ModelAccount) => a.metadata.region === 'eu' && a.currency === 'USD'],
    ['metadata and status', 'metadata.segment=private&status=OPEN', (a: ModelAccount) => a.metadata.segment === 'private'],
    ['a value no account has', 'metadata.segment=nobody', () => false],
    ['a key no account has', 'metadata.colour=red', () => false],
  ])('pages through exactly the accounts with %s, each once, in id order', async (_name, filters, keep) => {
    const expected = modelIds(keep);
    expect(await listed(filters, 4)).toEqual(expected);
    expect(await listed(filters, 1000)).toEqual(expected);
  });

  it('by metadata and owner name, ordered by name', async () => {
    const expected = [...bank.accounts.values()].filter((a) => a.metadata.segment === 'retail' && a.ownerName.startsWith('Ada')).map((a) => a.ownerName.toLowerCase()).sort();
    const found = await allPages<ModelAccount>(base(), '/api/v1/accounts?metadata.segment=retail&ownerName=ada', 3);
    expect(found.map((a) => a.ownerName.toLowerCase())).toEqual(expected);
    expect(found.every((a) => a.metadata.segment === 'retail')).toBe(true);
  });
});
