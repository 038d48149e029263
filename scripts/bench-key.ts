// The API key the benchmarks send (DESIGN §9). The services a benchmark starts get it as their
// LEDGER_ADMIN_KEY (keyId `bootstrap`) with RATE_LIMIT_PER_SECOND at its ceiling: every request
// is still authenticated and counted by the limiter, so their cost is in the numbers, but no
// offered rate reaches the limit, so no 429 shapes the result. Set once in process.env, so the
// load processes the benchmark forks inherit the same key.
import { randomBytes } from 'node:crypto';

process.env.LEDGER_ADMIN_KEY ||= `bench-${randomBytes(32).toString('base64url')}`;

export const benchApiKey: string = process.env.LEDGER_ADMIN_KEY;

/** The rate limit the benchmarked services run with: RATE_LIMIT_PER_SECOND's largest value. */
export const benchRateLimitPerSecond = '10000000';

export const benchServiceEnv = { LEDGER_ADMIN_KEY: benchApiKey, RATE_LIMIT_PER_SECOND: benchRateLimitPerSecond };
