// Events the views cannot apply. The log's contract says they never happen, but a producer that
// breaks it (a command routed with another partitioner, a forged or re-published record, a bug
// upstream) must not stop the read side: events are kept forever, so a consumer that stopped on
// one would meet it again on every restart. Such an event is parked instead: left out of the
// views, recorded with its place in the log, counted and logged; everything else goes on.

/** Why an event was parked; a closed set, so it is also the metric's label. */
export type ParkReason =
  /** The record is not an event in the wire format, or its schema is unknown. */
  | 'UNDECODABLE'
  /** The event's account belongs to another partition (murmur2 of the accountId). */
  | 'WRONG_PARTITION'
  /** The view never saw the account and the event is not its sequence-1 AccountOpened. */
  | 'UNKNOWN_ACCOUNT'
  /** The sequence is not the account's next one (version + 1). */
  | 'SEQUENCE_GAP'
  /** An AccountOpened for an account the view already holds. */
  | 'ALREADY_OPEN'
  /** An already-applied sequence, with other content than the event applied. */
  | 'CONFLICTING_DUPLICATE'
  /** A field out of range, or a balanceAfter that does not add up. */
  | 'INVALID_EVENT';

export const parkReasons: readonly ParkReason[] = [
  'UNDECODABLE',
  'WRONG_PARTITION',
  'UNKNOWN_ACCOUNT',
  'SEQUENCE_GAP',
  'ALREADY_OPEN',
  'CONFLICTING_DUPLICATE',
  'INVALID_EVENT',
];

/** Thrown by applyEvent for an event it cannot apply; applyEvents turns it into a parked entry. */
export class UnapplicableEvent extends Error {
  override readonly name = 'UnapplicableEvent';
  readonly retriable = false;
  constructor(
    readonly reason: ParkReason,
    message: string,
  ) {
    super(`${reason}: ${message}`);
  }
}

/** A parked event where the log holds it; `accountId` and `sequence` are null when it did not decode. */
export interface ParkedEvent {
  partition: number;
  offset: string;
  /** The record key, cut to parkedKeyCharsMax characters (null when the record had none). */
  key: string | null;
  reason: ParkReason;
  detail: string;
  accountId: string | null;
  sequence: number | null;
}

/** A record key kept with a parked event is cut to this: keys may be up to a megabyte. */
export const parkedKeyCharsMax = 200;

export function parkedKey(key: string | null): string | null {
  if (key === null || key.length <= parkedKeyCharsMax) return key;
  return `${key.slice(0, parkedKeyCharsMax)}…`;
}
