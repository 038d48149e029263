// The edge's settings, the same for both services (DESIGN §9): where to listen, the bootstrap
// admin key, the per-key rate limit and CORS. A bad value is a startup error naming the variable.
import { integerFromEnv } from '../../topics/config.ts';
import { bootstrapKeyProblem } from './api-keys.ts';
import { accessBounds } from './plugin.ts';

type Env = Record<string, string | undefined>;

export interface EdgeConfig {
  /** HOST; 127.0.0.1 unless set (a ledger is not exposed by accident). */
  host: string;
  /** LEDGER_ADMIN_KEY: the admin key with keyId `bootstrap`, never stored. */
  adminKey: string | undefined;
  /** RATE_LIMIT_PER_SECOND: requests per API key and second; 0 turns it off. */
  rateLimitPerSecond: number;
  /** CORS_ORIGINS (comma-separated); empty: CORS off. */
  corsOrigins: string[];
}

export const defaultHost = '127.0.0.1';

export function loadEdgeConfig(env: Env = process.env): EdgeConfig {
  const adminKey = env.LEDGER_ADMIN_KEY === undefined || env.LEDGER_ADMIN_KEY === '' ? undefined : env.LEDGER_ADMIN_KEY;
  if (adminKey !== undefined) {
    const problem = bootstrapKeyProblem(adminKey);
    if (problem !== undefined) throw new Error(problem);
  }
  const corsOrigins = (env.CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter((o) => o !== '');
  for (const origin of corsOrigins) {
    if (!/^https?:\/\/[^\s/]+$/.test(origin)) throw new Error(`CORS_ORIGINS: "${origin}" is not an origin (scheme://host[:port])`);
  }
  return {
    host: env.HOST || defaultHost,
    adminKey,
    rateLimitPerSecond: integerFromEnv(env, 'RATE_LIMIT_PER_SECOND', accessBounds.perKeyPerSecondDefault, 0, 10_000_000),
    corsOrigins,
  };
}
