// The live event stream over real HTTP with no broker: events handed to the stream as the
// consumer hands them reach every client as SSE, Last-Event-ID resumes exactly after the id, a
// client that stops reading is cut off at its buffer bound, and bad ids or one stream too many
// are problems, never a 500.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountEvent } from '../../../schemas/types.ts';
import { buildApp } from '../../../processors/query/routes.ts';
import { ViewStores } from '../../../processors/query/stores.ts';
import { VersionWaiters } from '../../../processors/query/waiters.ts';
import { EventStream, streamBounds } from '../../../processors/query/event-stream.ts';
import { QueryMetrics } from '../../../processors/query/metrics.ts';
import { Progress } from '../../../processors/query/progress.ts';
import { waitFor } from '../../support/ledger.ts';
import { openStream } from '../../support/sse.ts';
import { ev, event } from './given.ts';
import { adminHeaders, bearer, testDirectory } from '../../support/keys.ts';
import { mintApiKey, type Scope } from '../../../processors/http/api-keys.ts';

const bounds = { ...streamBounds, clientsMax: 3, clientBufferBytesMax: 1024 * 1024, resumeEventsMax: 50 };
let dir: string;
let stream: EventStream;
let app: ReturnType<typeof buildApp>;
let url: string;
let offset = 0;
const keys = testDirectory();
const appliedNext = new Map<number, bigint>();

/** Publishes deposits on partition 1 the way the consumer does after a store write. */
function publish(count: number): AccountEvent[] {
  const events = Array.from({ length: count }, () => {
    offset += 1;
    return event('acc-a', offset, ev.deposited(1, offset));
  });
  for (const e of events) stream.publish(1, String(e.sequence), e);
  appliedNext.set(1, BigInt(offset + 1));
  return events;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'query-stream-'));
  stream = new EventStream('test.events', 4, (p) => appliedNext.get(p) ?? null, bounds);
  app = buildApp({ views: new ViewStores(dir, 'test.events', 4), waiters: new VersionWaiters(10), readiness: () => ({ ready: true, partitions: [] }), minVersionWaitMs: 10, events: stream, keys });
  url = `${(await app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1')}/api/v1/events/stream`;
});

afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('event stream', () => {
  it('sends applied events as SSE with id <partition>:<offset>, and resumes exactly after Last-Event-ID', async () => {
    const client = await openStream(url);
    expect(client.response.headers['content-type']).toMatch(/^text\/event-stream/);
    publish(5);
    await waitFor(() => (client.frames.length === 5 ? true : undefined), { what: '5 frames', timeoutMs: 5000 });
    expect(client.frames.map((f) => f.id)).toEqual([`1:${offset - 4}`, `1:${offset - 3}`, `1:${offset - 2}`, `1:${offset - 1}`, `1:${offset}`]);
    expect(JSON.parse(client.frames[0]!.data)).toMatchObject({ partition: 1, accountId: 'acc-a', type: 'MoneyDeposited', payload: { amount: 1 } });
    const lastSeen = client.frames[2]!.id!;
    client.close();
    publish(3);
    const resumed = await openStream(url, { 'last-event-id': lastSeen });
    await waitFor(() => (resumed.frames.length === 5 ? true : undefined), { what: 'the 5 missed frames', timeoutMs: 5000 });
    expect(resumed.frames.map((f) => Number(f.id!.split(':')[1]))).toEqual([offset - 4, offset - 3, offset - 2, offset - 1, offset]);
    resumed.close();
  });

  it('an id older than the events kept resumes live after a gap event', async () => {
    const first = offset + 1;
    publish(bounds.resumeEventsMax + 10);
    const client = await openStream(`${url}?lastEventId=1:${first}`);
    await waitFor(() => (client.frames.length === 1 ? true : undefined), { what: 'the gap frame', timeoutMs: 5000 });
    expect(client.frames[0]).toMatchObject({ event: 'gap' });
    publish(1);
    await waitFor(() => (client.frames.length === 2 ? true : undefined), { what: 'a live frame', timeoutMs: 5000 });
    client.close();
  });

  it('a client that stops reading is cut off at clientBufferBytesMax while one that reads gets every event', async () => {
    const slow = await openStream(url);
    slow.response.pause();
    const fast = await openStream(url);
    await waitFor(() => (stream.size === 2 ? true : undefined), { what: 'two streams', timeoutMs: 5000 });
    const cutBefore = stream.cutOff;
    const chunk = 500; // ~200 KB per publish burst, as the consumer publishes a chunk at once
    let sent = 0;
    for (let i = 0; i < 200 && stream.cutOff === cutBefore; i += 1) {
      publish(chunk);
      sent += chunk;
      await waitFor(() => (fast.frames.length === sent ? true : undefined), { what: 'the fast client to keep up', timeoutMs: 10_000 });
    }
    expect(stream.cutOff).toBe(cutBefore + 1);
    // What the kernel still held reaches the client, then the connection ends: it is not resumed by the server.
    slow.response.resume();
    await slow.ended;
    expect(slow.frames.length).toBeLessThan(sent);
    expect(stream.size).toBe(1);
    expect(fast.frames.length).toBe(sent);
    const metrics = new QueryMetrics(new Progress({ info: () => undefined, warn: () => undefined, error: () => undefined }), new VersionWaiters(1));
    metrics.watchStream(stream);
    expect(metrics.registry.render()).toMatch(new RegExp(`\nquery_event_streams_cut_off ${cutBefore + 1}\n[^]*\nquery_event_streams 1\n|\nquery_event_streams 1\n[^]*\nquery_event_streams_cut_off ${cutBefore + 1}\n`));
    fast.close();
  }, 60_000);

  it('needs an API key with the read scope: none is 401, a write-only key 403, a read key streams', async () => {
    const keyWith = (scopes: Scope[]) => {
      const { key, record } = mintApiKey('stream-test', scopes, Date.now());
      keys.apply(record);
      return key;
    };
    const none = await app.inject({ method: 'GET', url: '/api/v1/events/stream' });
    expect([none.statusCode, none.json().code, none.headers['www-authenticate']]).toEqual([401, 'UNAUTHENTICATED', expect.stringMatching(/^Bearer/)]);
    const writer = await app.inject({ method: 'GET', url: '/api/v1/events/stream', headers: bearer(keyWith(['write'])) });
    expect([writer.statusCode, writer.json().code]).toEqual([403, 'FORBIDDEN']);
    const reader = await openStream(url, bearer(keyWith(['read'])));
    expect(reader.status).toBe(200);
    publish(1);
    await waitFor(() => (reader.frames.length === 1 ? true : undefined), { what: 'a frame for the read key', timeoutMs: 5000 });
    reader.close();
  });

  it('a malformed Last-Event-ID, or one from another topic, is 400 VALIDATION_FAILED', async () => {
    for (const id of ['abc', '1:', '-1:5', '1:2:3', '9:0', `1:${offset + 1000}`]) {
      const response = await app.inject({ method: 'GET', url: '/api/v1/events/stream', headers: { ...adminHeaders, 'last-event-id': id } });
      expect([id, response.statusCode, response.json().code]).toEqual([id, 400, 'VALIDATION_FAILED']);
    }
    const response = await app.inject({ method: 'GET', url: '/api/v1/events/stream', headers: { ...adminHeaders, 'last-event-id': '9:0' } });
    expect(response.json().detail).toMatch(/another topic/);
  });

  it('past clientsMax streams one more is 503 UNAVAILABLE naming the bound', async () => {
    await waitFor(() => (stream.size === 0 ? true : undefined), { what: 'no streams', timeoutMs: 5000 });
    const open = await Promise.all(Array.from({ length: bounds.clientsMax }, () => openStream(url)));
    const refused = await openStream(url);
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'UNAVAILABLE', detail: expect.stringMatching(/clientsMax/) });
    for (const client of open) client.close();
  });
});
