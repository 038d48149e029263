import { describe, expect, it } from 'vitest';
import { replayDecision, type ReplayInputs } from '../../../processors/query/replay.ts';

const base: ReplayInputs = {
  committed: 500n,
  checkpoint: { nextOffset: 500n, previousNextOffset: 400n },
  storeProblem: null,
  logStart: 0n,
  logEnd: 900n,
};

describe('replay on assignment', () => {
  it('resumes at the checkpoint when the committed offset matches it', () => {
    expect(replayDecision(base)).toMatchObject({ action: 'resume', from: 500n });
  });

  it('rebuilds from the log start after the group was reset to the earliest offset', () => {
    expect(replayDecision({ ...base, committed: 0n })).toMatchObject({ action: 'rebuild', from: 0n, reason: expect.stringContaining('reset') });
  });

  it('rebuilds from the log start, not from the reset offset, after a reset to the middle', () => {
    expect(replayDecision({ ...base, committed: 250n, logStart: 10n })).toMatchObject({ action: 'rebuild', from: 10n });
  });

  it('rebuilds when the store is missing or unreadable', () => {
    expect(replayDecision({ ...base, checkpoint: null })).toMatchObject({ action: 'rebuild', from: 0n, reason: 'the view store is missing' });
    expect(replayDecision({ ...base, checkpoint: null, storeProblem: 'corrupt' })).toMatchObject({ action: 'rebuild', reason: 'corrupt' });
  });

  it('rebuilds a stale store whose checkpoint is behind the committed offset', () => {
    expect(replayDecision({ ...base, committed: 700n })).toMatchObject({ action: 'rebuild', reason: expect.stringContaining('stale') });
  });

  it('rebuilds a store whose checkpoint is past the end of the log (the topic was recreated)', () => {
    expect(replayDecision({ ...base, committed: null, logEnd: 100n })).toMatchObject({ action: 'rebuild', reason: expect.stringContaining('recreated') });
  });

  it('resumes at the checkpoint after a crash between the store write and the commit', () => {
    expect(replayDecision({ ...base, committed: 400n })).toMatchObject({ action: 'resume', from: 500n });
  });

  it('a reset to the log start that equals the previous checkpoint still rebuilds', () => {
    expect(replayDecision({ ...base, committed: 0n, checkpoint: { nextOffset: 120n, previousNextOffset: 0n } })).toMatchObject({ action: 'rebuild' });
  });

  it('resumes at the checkpoint when the group has no committed offset', () => {
    expect(replayDecision({ ...base, committed: null })).toMatchObject({ action: 'resume', from: 500n });
  });
});
