// The facts reporter sees what vitest's JSON report hides: run vitest (as .ci/run does, with
// --allowOnly=false) over deliberately broken fixture files and count the result.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { countRun, type RunFacts } from '../../../scripts/ci/count.ts';

const dir = mkdtempSync(join(tmpdir(), 'ci-facts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('records load failures, failed hooks, unhandled errors and .only as failures', () => {
  const factsFile = join(dir, 'facts.json');
  const run = spawnSync(
    process.execPath,
    ['node_modules/vitest/vitest.mjs', 'run', '--config', 'test/unit/ci/fixtures/vitest.config.ts', '--allowOnly=false', '--reporter=./scripts/ci/facts-reporter.ts'],
    { env: { ...process.env, CI_FACTS_FILE: factsFile }, encoding: 'utf8', timeout: 60_000 },
  );
  expect(run.status, run.stderr).toBe(1);
  const facts = JSON.parse(readFileSync(factsFile, 'utf8')) as RunFacts;
  const result = countRun({ facts, vitestStatus: run.status ?? -1, minTests: 0 });
  const failures = result.failures.join('\n');
  expect(failures).toMatch(/before-all\.fixture\.ts: Error: boom in beforeAll/);
  expect(failures).toMatch(/after-all\.fixture\.ts: Error: boom in afterAll/);
  expect(failures).toMatch(/after-all\.fixture\.ts > inner: Error: boom in inner beforeAll/);
  expect(failures).toMatch(/load\.fixture\.ts: .*does-not-exist/);
  expect(failures).toMatch(/unhandled error: Error: unhandled boom/);
  expect(failures).toMatch(/only\.fixture\.ts > focused: .*Unexpected \.only/);
  expect(result.failures).toHaveLength(6);
  expect(result.summary).toBe('2 passed, 6 failed');
}, 90_000); // a whole vitest run on a shared 2-core machine
