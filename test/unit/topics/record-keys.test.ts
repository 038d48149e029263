// The record keys spelled once (topics/record-keys.ts), as the topics and the auditor expect them.
import { describe, expect, it } from 'vitest';
import { eventKey, isRefusalKey, refusalKey } from '../../../topics/record-keys.ts';
import { eventIdOf } from '../../../processors/account/domain/index.ts';

describe('record keys', () => {
  it('an event is keyed <accountId>:<sequence>, the same as its eventId', () => {
    expect(eventKey('6f1c0b1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f', 12)).toBe('6f1c0b1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f:12');
    expect(eventIdOf('a', 1)).toBe(eventKey('a', 1));
  });

  it('a key-reuse refusal is keyed <commandId>#<fingerprint>, which no commandId is', () => {
    expect(refusalKey('c-1', 'fp')).toBe('c-1#fp');
    expect([isRefusalKey(refusalKey('c-1', 'fp')), isRefusalKey('6f1c0b1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f')]).toEqual([true, false]);
  });
});
