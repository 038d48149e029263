import { describe, expect, it } from 'vitest';
import { reasonKeyCharsMax, routingProblem } from '../../../processors/account/routing.ts';
import { createPartitionOf } from '../../../topics/partitioner.ts';

const partitionOf = createPartitionOf(8);
const A = 'a-little-bit-long-string'; // murmur2 puts it on partition 0 of 8 (Kafka's test vector)

describe('routing check of a command record', () => {
  it('passes a record keyed by its accountId on the murmur2 partition', () => {
    expect(partitionOf(A)).toBe(0);
    expect(routingProblem({ key: Buffer.from(A), partition: 0 }, A, partitionOf)).toBeNull();
  });

  it('names the partition the account belongs to when the record sits elsewhere', () => {
    expect(routingProblem({ key: Buffer.from(A), partition: 3 }, A, partitionOf)).toBe(
      `WRONG_PARTITION: account ${A} belongs to partition 0 (murmur2 of the accountId), not 3`,
    );
  });

  it('refuses a record keyed by another id, or by nothing, even on the right partition', () => {
    expect(routingProblem({ key: Buffer.from('someone-else'), partition: 0 }, A, partitionOf)).toBe(`KEY_MISMATCH: record key "someone-else" is not the command's accountId ${A}`);
    expect(routingProblem({ key: null, partition: 0 }, A, partitionOf)).toMatch(/^KEY_MISMATCH: record key null /);
  });

  it('compares keys byte for byte: case and surrounding spaces matter', () => {
    expect(routingProblem({ key: Buffer.from(A.toUpperCase()), partition: 0 }, A, partitionOf)).toMatch(/^KEY_MISMATCH/);
    expect(routingProblem({ key: Buffer.from(` ${A}`), partition: 0 }, A, partitionOf)).toMatch(/^KEY_MISMATCH/);
  });

  it('names a wrong key before a wrong partition', () => {
    expect(routingProblem({ key: Buffer.from('x'), partition: 5 }, A, partitionOf)).toMatch(/^KEY_MISMATCH/);
  });

  it('quotes at most reasonKeyCharsMax characters of a huge key', () => {
    const reason = routingProblem({ key: Buffer.alloc(100_000, 0x6b), partition: 0 }, A, partitionOf) ?? '';
    expect(reason.length).toBeLessThan(reasonKeyCharsMax + 100);
    expect(reason).toContain(`${'k'.repeat(reasonKeyCharsMax)}…`);
  });
});
