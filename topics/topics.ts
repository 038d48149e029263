// The topics of DESIGN §2 as data: one place that names them, their keys and their configs.

const dayMs = 24 * 60 * 60 * 1000;
/** Kafka's default record batch limit, pinned on the commands topic whatever the broker's default. */
export const commandBatchBytesMax = 1024 * 1024 + 12;
/**
 * The DLQ must take any record the commands topic took plus our headers: a poison record at the
 * commands topic's limit would otherwise be refused by the DLQ and wedge its partition.
 */
export const deadLetterBatchBytesMax = 2 * commandBatchBytesMax;

export type TopicRole = 'commands' | 'events' | 'accountState' | 'outcomes' | 'movements' | 'commandsDlq' | 'apiKeys';

export interface TopicSpec {
  role: TopicRole;
  name: string;
  key: string;
  /** Exactly the configs verified on an existing topic. */
  configs: Record<string, string>;
}

export interface TopicNames {
  commands: string;
  events: string;
  accountState: string;
  outcomes: string;
  movements: string;
  commandsDlq: string;
  apiKeys: string;
}

export function topicNames(prefix: string): TopicNames {
  return {
    commands: `${prefix}commands`,
    events: `${prefix}events`,
    accountState: `${prefix}account-state`,
    outcomes: `${prefix}outcomes`,
    movements: `${prefix}movements`,
    commandsDlq: `${prefix}commands.dlq`,
    apiKeys: `${prefix}api-keys`,
  };
}

export function topicSpecs(prefix: string): TopicSpec[] {
  const names = topicNames(prefix);
  return [
    {
      role: 'commands',
      name: names.commands,
      key: 'accountId',
      configs: { 'cleanup.policy': 'delete', 'retention.ms': String(7 * dayMs), 'max.message.bytes': String(commandBatchBytesMax) },
    },
    // Keys are unique per event, so compaction keeps every event and only collapses re-publishes.
    { role: 'events', name: names.events, key: '<accountId>:<sequence>', configs: { 'cleanup.policy': 'compact' } },
    { role: 'accountState', name: names.accountState, key: 'accountId', configs: { 'cleanup.policy': 'compact' } },
    // compact,delete: one record per commandId while it lives, gone after the idempotency window.
    {
      role: 'outcomes',
      name: names.outcomes,
      key: 'commandId',
      configs: { 'cleanup.policy': 'compact,delete', 'retention.ms': String(7 * dayMs) },
    },
    // The outcome of every transfer initiation (and later holds and reversals), kept forever: ids
    // that move money are unique forever (DESIGN §8). Keys are commandIds; compaction keeps the
    // latest record of each (pending, then completed or failed).
    { role: 'movements', name: names.movements, key: 'commandId', configs: { 'cleanup.policy': 'compact' } },
    {
      role: 'commandsDlq',
      name: names.commandsDlq,
      key: 'original key',
      configs: { 'cleanup.policy': 'delete', 'retention.ms': String(30 * dayMs), 'max.message.bytes': String(deadLetterBatchBytesMax) },
    },
    // The HTTP edge's API keys (DESIGN §9): latest record per keyId (a revocation replaces the
    // creation), read from the beginning by every gateway and query instance.
    { role: 'apiKeys', name: names.apiKeys, key: 'keyId', configs: { 'cleanup.policy': 'compact' } },
  ];
}

/** How long an idempotency record is honoured: the outcomes topic's retention. */
export const idempotencyWindowMs = 7 * dayMs;

/** Header on an outcome the processor re-emits for a duplicate command (the gateway answers `Idempotent-Replayed`). */
export const replayedHeader = 'ledger-replayed';

/**
 * Header on every outcome: when the processor took up the chunk it answers (epoch ms, the host's
 * clock, not the processor's business clock). With the record's timestamp (when it was sent in the
 * transaction) it splits a request's wait into its stages (the gateway's Server-Timing).
 */
export const fetchedAtHeader = 'ledger-fetched-at';
