// The bootstrap admin key of `npm start` (DESIGN §9): LEDGER_ADMIN_KEY when set; otherwise one
// generated on first run into .stack/admin-api-key (mode 0600, like an SSH key) and reused after,
// so the key a user exported yesterday still works today. The services get it as LEDGER_ADMIN_KEY.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bootstrapKeyProblem } from '../processors/http/api-keys.ts';

export const adminKeyFileName = 'admin-api-key';

/** The key and where it came from; a malformed file or variable is an error naming it. */
export function resolveAdminKey(stackDir: string, env: Record<string, string | undefined> = process.env): { key: string; source: 'env' | 'file' | 'generated'; file: string } {
  const file = path.join(stackDir, adminKeyFileName);
  const fromEnv = env.LEDGER_ADMIN_KEY;
  if (fromEnv !== undefined && fromEnv !== '') {
    const problem = bootstrapKeyProblem(fromEnv);
    if (problem !== undefined) throw new Error(problem);
    return { key: fromEnv, source: 'env', file };
  }
  if (existsSync(file)) {
    const key = readFileSync(file, 'utf8').trim();
    const problem = bootstrapKeyProblem(key);
    if (problem !== undefined) throw new Error(`${file}: ${problem} (delete the file to generate a new key)`);
    chmodSync(file, 0o600);
    return { key, source: 'file', file };
  }
  // 32 random bytes, base64url: 43 printable characters.
  const key = `lka_${randomBytes(32).toString('base64url')}`;
  mkdirSync(stackDir, { recursive: true });
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return { key, source: 'generated', file };
}
