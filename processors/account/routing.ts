// Is a command where the ledger expects it (DESIGN §2, §8)? Its record key must be its
// accountId and its partition the one Kafka's default (murmur2) partitioner gives that id. A
// command produced with another partitioner (librdkafka's CRC32 default, kafkajs' legacy one) or
// keyed by something else would otherwise be decided against another partition's store: a
// second copy of the account, whose events the query side cannot place. Such a record is
// dead-lettered and changes nothing. Pure: no I/O.

/** Reasons that open the `dlq.reason` header of a misrouted command, in order of precedence. */
export type RoutingReason = 'KEY_MISMATCH' | 'WRONG_PARTITION';

/** A key quoted in a reason is cut to this many characters: a record key may be up to a megabyte. */
export const reasonKeyCharsMax = 120;

export interface RoutedRecord {
  key: Buffer | null;
  partition: number;
}

function quoted(key: Buffer | null): string {
  if (key === null) return 'null';
  const text = key.toString('utf8');
  return JSON.stringify(text.length > reasonKeyCharsMax ? `${text.slice(0, reasonKeyCharsMax)}…` : text);
}

/**
 * Null when the record is routed as the ledger routes it; else the dead-letter reason, which
 * starts with its RoutingReason. A wrong key is named first: it is usually why the partition is
 * wrong too.
 */
export function routingProblem(record: RoutedRecord, accountId: string, partitionOf: (accountId: string) => number): string | null {
  if (record.key === null || !record.key.equals(Buffer.from(accountId, 'utf8'))) {
    return `KEY_MISMATCH: record key ${quoted(record.key)} is not the command's accountId ${accountId}`;
  }
  const expected = partitionOf(accountId);
  if (record.partition !== expected) {
    return `WRONG_PARTITION: account ${accountId} belongs to partition ${expected} (murmur2 of the accountId), not ${record.partition}`;
  }
  return null;
}
