// When a partition is assigned: resume its views from the store's checkpoint, or wipe them and
// rebuild from the beginning of the log? Pure, so every rule is unit-tested.
//
// A rebuild always starts at the log's first offset, never at the offset the group was reset
// to: the views are a fold over each account's events from sequence 1 (balances, versions and
// history accumulate), so a fold that starts mid-log would meet a gap at its first event of
// every account. A reset to any earliest-or-later offset therefore means "rebuild everything".

export interface StoredCheckpoint {
  /** The next offset the store has not applied: what the group should have committed. */
  nextOffset: bigint;
  /** The checkpoint before the last write: the committed offset if we crashed before committing. */
  previousNextOffset: bigint | null;
}

export interface ReplayInputs {
  /** The group's committed offset for the partition; null when it has none. */
  committed: bigint | null;
  /** The store's checkpoint; null when the store is missing, empty, unreadable or foreign. */
  checkpoint: StoredCheckpoint | null;
  /** Why the store could not be used, when it could not. */
  storeProblem: string | null;
  /** The partition's first offset (log start). */
  logStart: bigint;
  /** The partition's last stable offset (end of the committed data). */
  logEnd: bigint;
}

export type ReplayDecision =
  | { action: 'resume'; from: bigint; reason: string }
  | { action: 'rebuild'; from: bigint; reason: string };

export function replayDecision(inputs: ReplayInputs): ReplayDecision {
  const { committed, checkpoint, logStart, logEnd } = inputs;
  const rebuild = (reason: string): ReplayDecision => ({ action: 'rebuild', from: logStart, reason });
  if (checkpoint === null) return rebuild(inputs.storeProblem ?? 'the view store is missing');
  const at = checkpoint.nextOffset;
  const resume = (reason: string): ReplayDecision => ({ action: 'resume', from: at, reason });
  // A checkpoint past the log's end belongs to an earlier incarnation of the topic.
  if (at > logEnd) return rebuild(`the store's checkpoint ${at} is past the end of the log ${logEnd}: the topic was recreated`);
  if (committed === null) return resume('the group has no committed offset (deleted or expired); the store is consistent up to its checkpoint');
  if (committed === at) return resume('the committed offset matches the store checkpoint');
  // The one write whose commit may not have happened: a crash between the store write and the
  // commit. A reset to the log start is not mistaken for it: that case rebuilds (cheaply, as the
  // store then holds a single write).
  if (committed === checkpoint.previousNextOffset && committed > logStart) {
    return resume('the last write was not committed (crash between store write and offset commit)');
  }
  if (committed < at) return rebuild(`the committed offset ${committed} is behind the store checkpoint ${at}: the group's offsets were reset`);
  return rebuild(`the committed offset ${committed} is ahead of the store checkpoint ${at}: the store is stale`);
}
