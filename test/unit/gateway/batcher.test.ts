// The micro-batcher shares produce requests between concurrent commands, keeps one batch in
// flight, and settles every command within the produce bound, whatever Kafka does.
import { describe, expect, it } from 'vitest';
import { MicroBatcher, type BatcherBounds } from '../../../gateway/batcher.ts';
import { UnavailableError } from '../../../processors/http/errors.ts';

const bounds: BatcherBounds = { lingerMs: 2, batchRecordsMax: 3, queuedRecordsMax: 6, produceTimeoutMs: 200 };

/** A fake producer whose requests complete when the test says so. */
function fakeProducer() {
  const batches: number[][] = [];
  const completions: ((error?: Error) => void)[] = [];
  let inFlight = 0;
  let inFlightMax = 0;
  const send = (items: number[]) =>
    new Promise<void>((resolve, reject) => {
      batches.push(items);
      inFlight += 1;
      inFlightMax = Math.max(inFlightMax, inFlight);
      completions.push((error) => {
        inFlight -= 1;
        if (error) reject(error);
        else resolve();
      });
    });
  return { batches, send, complete: (error?: Error) => completions.shift()?.(error), inFlightMax: () => inFlightMax };
}

describe('MicroBatcher', () => {
  it('sends concurrent items in one batch', async () => {
    const producer = fakeProducer();
    const batcher = new MicroBatcher(bounds, producer.send);
    const sent = [batcher.add(1), batcher.add(2)];
    await expect.poll(() => producer.batches).toEqual([[1, 2]]);
    producer.complete();
    await expect(Promise.all(sent)).resolves.toEqual([undefined, undefined]);
  });

  it('lingerMs 0: a lone item goes on the next turn of the event loop, with the items of the same turn, and no timer delays it', async () => {
    const producer = fakeProducer();
    const batcher = new MicroBatcher({ ...bounds, lingerMs: 0 }, producer.send);
    const sent = [batcher.add(1), batcher.add(2)];
    expect(producer.batches).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(producer.batches).toEqual([[1, 2]]);
    // Behind the batch in flight, items gather and go together when it completes.
    const behind = [batcher.add(3), batcher.add(4)];
    await new Promise((resolve) => setImmediate(resolve));
    expect(producer.batches).toEqual([[1, 2]]);
    producer.complete();
    await Promise.all(sent);
    await expect.poll(() => producer.batches).toEqual([[1, 2], [3, 4]]);
    producer.complete();
    await Promise.all(behind);
    expect(producer.inFlightMax()).toBe(1);
  });

  it('splits at batchRecordsMax and keeps one batch in flight', async () => {
    const producer = fakeProducer();
    const batcher = new MicroBatcher(bounds, producer.send);
    const sent = [1, 2, 3, 4, 5].map((n) => batcher.add(n));
    await expect.poll(() => producer.batches.length).toBe(1);
    expect(producer.batches[0]).toEqual([1, 2, 3]);
    producer.complete();
    await expect.poll(() => producer.batches.length).toBe(2);
    expect(producer.batches[1]).toEqual([4, 5]);
    producer.complete();
    await Promise.all(sent);
    expect(producer.inFlightMax()).toBe(1);
  });

  it('fails a batch Kafka refused with UnavailableError', async () => {
    const producer = fakeProducer();
    const batcher = new MicroBatcher(bounds, producer.send);
    const sent = batcher.add(1);
    await expect.poll(() => producer.batches.length).toBe(1);
    const refusal = new Error('NOT_ENOUGH_REPLICAS');
    producer.complete(refusal);
    await expect(sent).rejects.toThrow(UnavailableError);
    // The client is told to retry; Kafka's own words stay in the cause (and the log).
    const error = (await sent.catch((e: unknown) => e)) as UnavailableError;
    expect(error.detail).not.toContain('NOT_ENOUGH_REPLICAS');
    expect(error.cause).toBe(refusal);
  });

  it('fails items after produceTimeoutMs while Kafka hangs, then refuses at once beyond queuedRecordsMax', async () => {
    const producer = fakeProducer();
    const batcher = new MicroBatcher({ ...bounds, produceTimeoutMs: 50 }, producer.send);
    await expect(batcher.add(0)).rejects.toThrow(/within 50 ms/);
    await expect.poll(() => batcher.stalled(), { interval: 1 }).toBe(true);
    const queued = Promise.allSettled([1, 2, 3, 4, 5, 6].map((n) => batcher.add(n)));
    await expect(batcher.add(7)).rejects.toThrow(/queuedRecordsMax/);
    expect((await queued).map((r) => r.status)).toEqual(Array(6).fill('rejected'));
    // Kafka comes back: the stuck batch completes; expired items are not sent at all.
    producer.complete();
    const fresh = batcher.add(8);
    await expect.poll(() => producer.batches.at(-1), { interval: 1 }).toEqual([8]);
    producer.complete();
    await expect(fresh).resolves.toBeUndefined();
    expect(producer.batches).toEqual([[0], [8]]);
    expect(batcher.stalled()).toBe(false);
  });

  it('drains on close and refuses new items', async () => {
    const producer = fakeProducer();
    const batcher = new MicroBatcher(bounds, producer.send);
    const sent = batcher.add(1);
    const closed = batcher.close();
    await expect(batcher.add(2)).rejects.toThrow(/shutting down/);
    await expect.poll(() => producer.batches.length).toBe(1);
    producer.complete();
    await sent;
    await expect(closed).resolves.toBeUndefined();
  });
});
