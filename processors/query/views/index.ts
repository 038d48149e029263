// The query side's pure view logic: no Kafka, no LevelDB, no HTTP, no clock. The consumer folds
// events with applyEvents and writes the result; the routes combine and page what was written.
export { applyEvent } from './apply.ts';
export { accountsOf, applyEvents, entryRef, storedDuplicates, type BatchChanges } from './batch.ts';
export { compareCodePoints, mergeAccountPages, type MergedPage } from './list.ts';
export { parkedKey, parkedKeyCharsMax, parkReasons, UnapplicableEvent, type ParkedEvent, type ParkReason } from './parked.ts';
export { factFromEntry, transferView } from './transfer.ts';
export { applyHoldEvent, holdRef, holdsNamedBy, type HoldChange, type HoldRecord } from './holds.ts';
export { ViewInvariantViolation } from './assert.ts';
export type * from './types.ts';
