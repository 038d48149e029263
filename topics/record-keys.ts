// The record keys of the ledger's topics that are not a plain id (DESIGN §2), spelled once: the
// processor writes them, the query side and the auditor read them.

/** An event's id and its key on the compacted events topic: unique per event, so compaction keeps every event. */
export const eventKey = (accountId: string, sequence: number): string => `${accountId}:${sequence}`;

/**
 * The outcomes-topic key of an IDEMPOTENCY_KEY_REUSED refusal: `<commandId>#<fingerprint>`, so the
 * refusal never replaces (under compaction) the command's original outcome, keyed by commandId.
 */
export const refusalKey = (commandId: string, fingerprint: string): string => `${commandId}#${fingerprint}`;

/** A commandId is a UUID and never contains '#': only a refusal key does. */
export const isRefusalKey = (key: string): boolean => key.includes('#');
