// Command-line options of `npm run bench:http`, each bounded and named; a bad value is an error
// that names the flag. Shared by the orchestrator and the load generator (LoadPlan).

export type Operation = 'deposit' | 'withdraw' | 'transfer';
export const operations: readonly Operation[] = ['deposit', 'withdraw', 'transfer'];

export type Mix = Record<Operation, number>;

/** What one load generator process runs. */
export interface LoadPlan {
  baseUrl: string;
  accounts: string[];
  mix: Mix;
  /** Requests in flight at most (closed loop: exactly), and the agent's maxSockets. */
  concurrency: number;
  /** Open loop at this many requests/s; undefined: closed loop (as fast as answers come). */
  rate: number | undefined;
  warmupMs: number;
  durationMs: number;
  /** Measured requests at most (after the warmup); the duration still bounds the run. */
  requests: number | undefined;
  amountMax: number;
  requestTimeoutMs: number;
  seed: number;
  /** Idempotency-Keys are `<keyPrefix><n>`: unique per run, so every request is a new command. */
  keyPrefix: string;
}

export interface BenchOptions {
  concurrency: number;
  durationSeconds: number;
  requests: number | undefined;
  warmupSeconds: number;
  /** A number (open loop), 'half' (saturate, then half the measured rate), or undefined. */
  rate: number | 'half' | undefined;
  mix: Mix;
  accounts: number;
  initialBalance: number;
  amountMax: number;
  gatewayPort: number;
  profile: boolean;
  /** Seconds with the services up and no requests, measured before the load: what the system costs doing nothing. */
  idleSeconds: number;
  output: string;
}

/** Bounds of the flags: long enough for a soak, short enough that a typo is not an hour. */
export const benchBounds = {
  concurrencyMax: 4096,
  durationSecondsMax: 600,
  requestsMax: 10_000_000,
  rateMax: 200_000,
  accountsMax: 100_000,
} as const;

export const usage = `usage: npm run bench:http -- [--concurrency 128] [--duration 30 | --requests N] [--warmup 3]
       [--rate R | --rate half] [--mix deposit=50,withdraw=30,transfer=20] [--accounts 2000]
       [--initial-balance 10000] [--amount-max 10000] [--port 18080] [--profile] [--idle 0] [--output reports/bench-http.json]`;

export class UsageError extends Error {
  override name = 'UsageError';
}

function integer(name: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new UsageError(`--${name} ${raw}: an integer from ${min} to ${max}`);
  return value;
}

export function parseMix(raw: string): Mix {
  const mix: Mix = { deposit: 0, withdraw: 0, transfer: 0 };
  for (const part of raw.split(',')) {
    const [name, weight] = part.split('=');
    if (!operations.includes(name as Operation) || weight === undefined) {
      throw new UsageError(`--mix ${raw}: expected ${operations.map((o) => `${o}=<weight>`).join(',')}`);
    }
    mix[name as Operation] = integer('mix', weight, 0, 1_000_000);
  }
  if (operations.every((o) => mix[o] === 0)) throw new UsageError(`--mix ${raw}: at least one weight must be positive`);
  return mix;
}

export function parseOptions(argv: string[]): BenchOptions {
  const options: BenchOptions = {
    concurrency: 128,
    durationSeconds: 30,
    requests: undefined,
    warmupSeconds: 3,
    rate: undefined,
    mix: { deposit: 50, withdraw: 30, transfer: 20 },
    accounts: 2000,
    initialBalance: 10_000,
    amountMax: 10_000,
    gatewayPort: 18080,
    profile: false,
    idleSeconds: 0,
    output: 'reports/bench-http.json',
  };
  const b = benchBounds;
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i] ?? '';
    if (flag === '--help' || flag === '-h') throw new UsageError(usage);
    if (flag === '--profile') {
      options.profile = true;
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined) throw new UsageError(`${flag} needs a value\n${usage}`);
    i += 1;
    switch (flag) {
      case '--concurrency': options.concurrency = integer('concurrency', value, 1, b.concurrencyMax); break;
      case '--duration': options.durationSeconds = integer('duration', value, 1, b.durationSecondsMax); break;
      case '--requests': options.requests = integer('requests', value, 1, b.requestsMax); break;
      case '--warmup': options.warmupSeconds = integer('warmup', value, 0, 60); break;
      case '--rate': options.rate = value === 'half' ? 'half' : integer('rate', value, 1, b.rateMax); break;
      case '--mix': options.mix = parseMix(value); break;
      case '--accounts': options.accounts = integer('accounts', value, 2, b.accountsMax); break;
      case '--initial-balance': options.initialBalance = integer('initial-balance', value, 0, 1_000_000_000); break;
      case '--amount-max': options.amountMax = integer('amount-max', value, 1, 1_000_000_000); break;
      case '--port': options.gatewayPort = integer('port', value, 1024, 65_535); break;
      case '--idle': options.idleSeconds = integer('idle', value, 0, b.durationSecondsMax); break;
      case '--output': options.output = value; break;
      default: throw new UsageError(`unknown flag ${flag}\n${usage}`);
    }
  }
  return options;
}
