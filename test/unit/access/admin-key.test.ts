// `npm start`'s bootstrap admin key (DESIGN §9): LEDGER_ADMIN_KEY wins; otherwise generated once
// into .stack/admin-api-key with mode 0600 and reused after.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveAdminKey } from '../../../scripts/admin-key.ts';
import { bootstrapKeyProblem } from '../../../processors/http/api-keys.ts';

const dirs: string[] = [];
const stackDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'admin-key-'));
  dirs.push(dir);
  return join(dir, '.stack');
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the bootstrap admin key of npm start', () => {
  it('is generated on first run into admin-api-key with mode 0600, a valid LEDGER_ADMIN_KEY, and reused after', () => {
    const dir = stackDir();
    const first = resolveAdminKey(dir, {});
    expect(first.source).toBe('generated');
    expect(bootstrapKeyProblem(first.key)).toBeUndefined();
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    expect(readFileSync(first.file, 'utf8').trim()).toBe(first.key);
    expect(resolveAdminKey(dir, {})).toEqual({ ...first, source: 'file' });
  });

  it('LEDGER_ADMIN_KEY wins and is not written; a bad one is an error', () => {
    const dir = stackDir();
    const key = 'k'.repeat(40);
    expect(resolveAdminKey(dir, { LEDGER_ADMIN_KEY: key })).toMatchObject({ key, source: 'env' });
    expect(() => statSync(join(dir, 'admin-api-key'))).toThrow();
    expect(() => resolveAdminKey(dir, { LEDGER_ADMIN_KEY: 'short' })).toThrow(/32 to 255/);
  });

  it('a tampered key file is an error naming the file, never silently replaced', () => {
    const dir = stackDir();
    const { file } = resolveAdminKey(dir, {});
    writeFileSync(file, 'short\n');
    expect(() => resolveAdminKey(dir, {})).toThrow(/admin-api-key/);
  });
});
