// A seeded, realistic command mix for crash tests, the fault campaign and benchmarks: opens first,
// then deposits, withdrawals (some unaffordable), transfers (some to missing, closed or
// other-currency accounts), closes, duplicates of earlier commands (same commandId), and when
// asked reversals of earlier deposits, withdrawals and transfers of the same account.
import { uuidV5, fingerprintOf, reversalIdForCommand } from '../schemas/ids.ts';
import type { Command, CommandPayload } from '../schemas/types.ts';

export interface WorkloadOptions {
  seed: number;
  commands: number;
  accounts: number;
  /** Share of commands that repeat an earlier command with its commandId (client retries). */
  duplicateShare?: number;
  currencies?: string[];
  /**
   * Share of commands that reverse an earlier deposit, withdrawal or transfer of their account
   * (DESIGN §10; default 0, so existing mixes are unchanged). Some are refused, as a client's
   * would be: reversed already, still in flight, never accepted.
   */
  reversalShare?: number;
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function commandOf(commandId: string, accountId: string, payload: CommandPayload, issuedAt = Date.now()): Command {
  const meaning: Record<string, string | number | null> = { ...payload, accountId };
  return { commandId, accountId, issuedAt, fingerprint: fingerprintOf(meaning), payload };
}

export function generateWorkload(options: WorkloadOptions): Command[] {
  const random = prng(options.seed);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)] as T;
  const currencies = options.currencies ?? ['EUR', 'EUR', 'EUR', 'USD'];
  const accounts = Array.from({ length: options.accounts }, (_, i) => uuidV5(`workload:${options.seed}:account:${i}`));
  const missing = Array.from({ length: 16 }, (_, i) => uuidV5(`workload:${options.seed}:missing:${i}`));
  const commands: Command[] = [];
  let n = 0;
  const id = () => uuidV5(`workload:${options.seed}:command:${n++}`);
  for (const accountId of accounts) {
    if (commands.length >= options.commands) break;
    commands.push(commandOf(id(), accountId, { type: 'OpenAccount', ownerName: `Owner ${accountId.slice(0, 8)}`, currency: pick(currencies), initialBalance: Math.floor(random() * 100_000), overdraftLimit: 0 }));
  }
  const duplicateShare = options.duplicateShare ?? 0.03;
  const reversalShare = options.reversalShare ?? 0;
  const reversible = new Map<string, string[]>();
  while (commands.length < options.commands) {
    const roll = random();
    if (roll < duplicateShare && commands.length > 0) {
      commands.push(pick(commands));
      continue;
    }
    const accountId = pick(accounts);
    const earlier = reversible.get(accountId) ?? [];
    if (roll < duplicateShare + reversalShare && earlier.length > 0) {
      const commandId = id();
      commands.push(commandOf(commandId, accountId, { type: 'ReverseTransaction', reversalId: reversalIdForCommand(commandId), reversedCommandId: pick(earlier), reason: null }));
      continue;
    }
    const amount = 1 + Math.floor(random() * 20_000);
    const kind = random();
    let payload: CommandPayload;
    if (kind < 0.35) payload = { type: 'Deposit', amount, reference: random() < 0.3 ? `ref-${n}` : null };
    else if (kind < 0.6) payload = { type: 'Withdraw', amount, reference: null };
    else if (kind < 0.97) {
      const toAccountId = random() < 0.05 ? pick(missing) : random() < 0.02 ? accountId : pick(accounts);
      payload = { type: 'InitiateTransfer', transferId: uuidV5(`workload:${options.seed}:transfer:${n}`), toAccountId, amount, reference: null };
    } else payload = { type: 'CloseAccount' };
    const command = commandOf(id(), accountId, payload);
    if (reversalShare > 0 && payload.type !== 'CloseAccount') reversible.set(accountId, [...earlier, command.commandId]);
    commands.push(command);
  }
  return commands;
}
