// The account processor's settings come from one place (config.ts), like the other services'.
import { describe, expect, it } from 'vitest';
import { clockOf, loadAccountConfig } from '../../../processors/account/config.ts';

describe('account processor config', () => {
  it('defaults: metrics off, and on 127.0.0.1 unless ACCOUNT_METRICS_HOST or HOST says otherwise', () => {
    expect(loadAccountConfig({}).account).toMatchObject({ metricsPort: 0, metricsHost: '127.0.0.1', sessionTimeoutMs: 30_000, clockOffsetMs: 0 });
    expect(loadAccountConfig({ HOST: '0.0.0.0' }).account.metricsHost).toBe('0.0.0.0');
    expect(loadAccountConfig({ HOST: '0.0.0.0', ACCOUNT_METRICS_HOST: '10.0.0.1' }).account.metricsHost).toBe('10.0.0.1');
  });

  it('a bad value is an error naming the variable; the clock offset moves the clock', () => {
    expect(() => loadAccountConfig({ ACCOUNT_SESSION_TIMEOUT_MS: '10' })).toThrow(/ACCOUNT_SESSION_TIMEOUT_MS/);
    const clock = clockOf(loadAccountConfig({ ACCOUNT_CLOCK_OFFSET_MS: '86400000' }).account);
    expect(clock() - Date.now()).toBeGreaterThanOrEqual(86_400_000 - 1000);
  });
});
