// The gateway with in-memory adapters: a sink that records commands (or fails like an unreachable
// Kafka) and the real OutcomeTable fed by a scripted "processor". No broker; app.inject() only.
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp } from '../../../gateway/app.ts';
import { defaultGatewayConfig, type GatewayConfig } from '../../../gateway/config.ts';
import { GatewayMetrics } from '../../../gateway/metrics.ts';
import { OutcomeTable } from '../../../gateway/outcome-table.ts';
import type { CommandSink } from '../../../gateway/ports.ts';
import type { OutcomeTiming } from '../../../gateway/server-timing.ts';
import type { Command, CommandOutcome } from '../../../schemas/types.ts';
import type { ApiKeyDirectory } from '../../../processors/http/api-keys.ts';
import { InMemoryKeyAdmin, adminHeaders, testDirectory } from '../../support/keys.ts';

/** What the scripted processor answers for a command: outcomes to feed (in order), each maybe replayed. */
export type Reaction = { outcome: CommandOutcome; replayed?: boolean; timing?: OutcomeTiming }[];

export class InMemoryCommandSink implements CommandSink {
  readonly sent: Command[] = [];
  /** When set, send() rejects with it (Kafka unreachable, say). */
  failure: Error | undefined;
  connected = true;
  react: (command: Command) => Reaction = () => [];

  constructor(private readonly outcomes: OutcomeTable) {}

  async send(command: Command): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.sent.push(command);
    const reaction = this.react(command);
    // Outcomes arrive after the send is acknowledged, as they would from Kafka.
    setImmediate(() => {
      for (const { outcome, replayed, timing } of reaction) this.outcomes.accept(outcome, { replayed: replayed ?? false, timing });
    });
  }

  ready(): boolean {
    return this.connected;
  }
}

export interface Harness {
  app: FastifyInstance;
  sink: InMemoryCommandSink;
  outcomes: OutcomeTable;
  config: GatewayConfig;
  metrics: GatewayMetrics;
  keys: ApiKeyDirectory;
  keyAdmin: InMemoryKeyAdmin;
  /** inject() with the test admin key, unless the options carry an Authorization header (or `anonymous`). */
  request(options: InjectOptions): Promise<{ status: number; body: Record<string, unknown>; headers: Record<string, unknown> }>;
}

/**
 * A short command timeout keeps "no outcome" tests fast; tests that need outcomes get them on the
 * next turn of the event loop. 100 ms was too short on a loaded 2-core box (an outcome missed it:
 * 202 instead of 422), so 1 s.
 */
export function harness(overrides: Partial<GatewayConfig> = {}): Harness {
  const config: GatewayConfig = { ...defaultGatewayConfig, commandTimeoutMs: 1000, ...overrides };
  const metrics = new GatewayMetrics();
  const outcomes = new OutcomeTable(config, metrics);
  outcomes.feedRunning = true;
  const sink = new InMemoryCommandSink(outcomes);
  const keys = testDirectory();
  const keyAdmin = new InMemoryKeyAdmin();
  const app = buildApp({ commandSink: sink, outcomes, config, metrics, keys, keyAdmin });
  return {
    app,
    sink,
    outcomes,
    config,
    metrics,
    keys,
    keyAdmin,
    async request(options) {
      const response = await app.inject(withKey(options));
      const body = response.body === '' ? {} : (JSON.parse(response.body) as Record<string, unknown>);
      return { status: response.statusCode, body, headers: response.headers };
    },
  };
}

export function outcomeFor(command: Command, fields: Partial<CommandOutcome> = {}): CommandOutcome {
  return {
    commandId: command.commandId,
    accountId: command.accountId,
    status: 'ACCEPTED',
    code: null,
    message: null,
    fingerprint: command.fingerprint,
    version: 1,
    balance: 0,
    transferId: null,
    eventSequences: [1],
    processedAt: 1_700_000_000_000,
    transferStatus: null,
    transferCode: null, availableBalance: null, overdraftLimit: null, holdId: null, holdStatus: null, holdAmount: null, expiresAt: null, capturedAmount: null,
    ...fields,
  };
}

export function rejectedFor(command: Command, code: string, fields: Partial<CommandOutcome> = {}): CommandOutcome {
  return outcomeFor(command, { status: 'REJECTED', code, message: `refused: ${code}`, eventSequences: [], ...fields });
}

export const accountA = '6f1c0b1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f';
export const accountB = '7a2d1c2f-3b4e-4d6c-9f0a-1b2c3d4e5f60';

export const json = (url: string, payload: unknown, headers: Record<string, string> = {}): InjectOptions => ({
  method: 'POST',
  url,
  payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  headers: { 'content-type': 'application/json', ...headers },
});

/** The options with the test admin key added, unless they already say who is asking. */
export function withKey(options: InjectOptions): InjectOptions {
  const headers = (options.headers ?? {}) as Record<string, unknown>;
  if (Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) return options;
  return { ...options, headers: { ...adminHeaders, ...headers } };
}
