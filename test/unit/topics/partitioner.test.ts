import { describe, expect, it } from 'vitest';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { createPartitionOf, ExplicitFirstPartitioner } from '../../../topics/partitioner.ts';

// Apache Kafka's own murmur2 vectors (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java,
// testMurmur2): the Java producer puts key k on partition (murmur2(k) & 0x7fffffff) % N.
const javaMurmur2: Array<[string, number]> = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

const metadata = (partitions: number): PartitionMetadata[] =>
  Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));

describe('the accountId partitioner', () => {
  it.each([1, 4, 8, 12])('agrees with the Java producer on Kafka\'s murmur2 test vectors (%i partitions)', (partitions) => {
    const partitionOf = createPartitionOf(partitions);
    for (const [key, hash] of javaMurmur2) expect(partitionOf(key), key).toBe((hash & 0x7fffffff) % partitions);
  });

  it('agrees with kafkajs\' DefaultPartitioner, and kafkajs\' LegacyPartitioner puts some accounts elsewhere', () => {
    const partitionOf = createPartitionOf(8);
    const byDefault = Partitioners.DefaultPartitioner();
    const byLegacy = Partitioners.LegacyPartitioner();
    const ids = Array.from({ length: 200 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const pick = (p: typeof byDefault, key: string) => p({ topic: 't', partitionMetadata: metadata(8), message: { key, value: null } });
    for (const id of ids) expect(partitionOf(id)).toBe(pick(byDefault, id));
    expect(ids.filter((id) => pick(byLegacy, id) !== partitionOf(id)).length).toBeGreaterThan(100);
  });

  it('refuses a partition count that is not a positive integer', () => {
    expect(() => createPartitionOf(0)).toThrow(/positive integer/);
    expect(() => createPartitionOf(2.5)).toThrow(/positive integer/);
  });
});

describe('ExplicitFirstPartitioner (the processor\'s producers)', () => {
  it('answers as kafkajs\' DefaultPartitioner: explicit partitions (0 included, leaders or not), keyed records by murmur2', () => {
    const explicitFirst = ExplicitFirstPartitioner();
    const byDefault = Partitioners.DefaultPartitioner();
    const withoutLeaders = metadata(8).map((m) => ({ ...m, leader: -1 }));
    for (let i = 0; i < 500; i++) {
      const key = `account-${i}-${(i * 2654435761) % 4294967296}`;
      for (const partitionMetadata of [metadata(8), withoutLeaders]) {
        for (const message of [{ key, value: null }, { key, value: null, partition: i % 8 }, { key: null, value: 'v', partition: 0 }]) {
          const args = { topic: 't', partitionMetadata, message };
          expect(explicitFirst(args), JSON.stringify(message)).toBe(byDefault(args));
        }
      }
    }
  });
});
