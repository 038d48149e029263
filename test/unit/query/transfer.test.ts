import { describe, expect, it } from 'vitest';
import { transferView, ViewInvariantViolation, type TransferFact } from '../../../processors/query/views/index.ts';
import { A, B, T, t0 } from './given.ts';

const fact = (role: TransferFact['role'], occurredAt: number, reason: string | null = null): TransferFact => ({
  role, transferId: T, fromAccountId: A, toAccountId: B, amount: 30, currency: 'EUR', reason, occurredAt,
});

describe('transfer status', () => {
  it('nothing known is no transfer', () => {
    expect(transferView({})).toBeUndefined();
  });

  it('a debit alone is pending', () => {
    expect(transferView({ debited: fact('debited', t0) })).toEqual({
      transferId: T, status: 'pending', fromAccountId: A, toAccountId: B, amount: 30, currency: 'EUR', reason: null, debitedAt: t0, creditedAt: null, refundedAt: null,
    });
  });

  it('a debit and a credit is completed', () => {
    expect(transferView({ debited: fact('debited', t0), credited: fact('credited', t0 + 5) })).toMatchObject({ status: 'completed', debitedAt: t0, creditedAt: t0 + 5 });
  });

  it('a credit proves completion before the source partition shows the debit', () => {
    expect(transferView({ credited: fact('credited', t0 + 5) })).toMatchObject({ status: 'completed', debitedAt: null });
  });

  it('a refund is failed, with the destination code as reason', () => {
    expect(transferView({ debited: fact('debited', t0), refunded: fact('refunded', t0 + 9, 'ACCOUNT_NOT_FOUND') })).toMatchObject({
      status: 'failed', reason: 'ACCOUNT_NOT_FOUND', refundedAt: t0 + 9, creditedAt: null,
    });
  });

  it('a transfer both credited and refunded is a broken invariant', () => {
    expect(() => transferView({ credited: fact('credited', t0), refunded: fact('refunded', t0, 'X') })).toThrow(ViewInvariantViolation);
  });

  it('facts that disagree on the amount are a broken invariant', () => {
    expect(() => transferView({ debited: fact('debited', t0), credited: { ...fact('credited', t0), amount: 31 } })).toThrow(/amounts/);
  });
});
