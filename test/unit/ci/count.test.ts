// The CI count cannot say "0 failed" when something failed: every kind of broken run found in
// vitest's own reporting (a failed beforeAll marks its tests skipped, an unhandled error leaves
// the tests passed) is counted, and so is a run with too few tests.
import { describe, expect, it } from 'vitest';
import { countRun, type RunFacts } from '../../../scripts/ci/count.ts';

const healthy = (): RunFacts => ({
  reason: 'passed',
  tests: [
    { name: 'test/a.test.ts > one', state: 'passed' },
    { name: 'test/a.test.ts > two', state: 'passed' },
  ],
  suiteErrors: [],
  failedModules: [],
  unhandledErrors: [],
});

const count = (facts: RunFacts | undefined, options: { vitestStatus?: number; minTests?: number } = {}) =>
  countRun({ facts, vitestStatus: options.vitestStatus ?? 0, minTests: options.minTests ?? 2 });

describe('the CI count', () => {
  it('passes a healthy run and says so on the last line', () => {
    expect(count(healthy())).toEqual({ passed: 2, failures: [], skipped: 0, summary: '2 passed, 0 failed' });
  });

  it('counts each failed test by name', () => {
    const facts = healthy();
    facts.tests.push({ name: 'test/a.test.ts > three', state: 'failed', error: 'AssertionError: expected 1 to be 2' });
    const result = count(facts, { vitestStatus: 1 });
    expect(result.summary).toBe('2 passed, 1 failed');
    expect(result.failures).toEqual(['test failed: test/a.test.ts > three: AssertionError: expected 1 to be 2']);
  });

  it('counts a failed beforeAll even though its tests only show as skipped', () => {
    const facts = healthy();
    facts.tests.push({ name: 'test/b.test.ts > x', state: 'skipped' }, { name: 'test/b.test.ts > y', state: 'skipped' });
    facts.suiteErrors.push({ where: 'test/b.test.ts', error: 'Error: boom in beforeAll' });
    facts.failedModules.push('test/b.test.ts');
    const result = count(facts, { vitestStatus: 1 });
    expect(result.summary).toBe('2 passed, 1 failed');
    expect(result.skipped).toBe(2);
    expect(result.failures[0]).toContain('test/b.test.ts: Error: boom in beforeAll');
  });

  it('counts a failed afterAll or a describe-level hook beside failed tests of the same file', () => {
    const facts = healthy();
    facts.tests.push({ name: 'test/c.test.ts > fails', state: 'failed', error: 'AssertionError' });
    facts.suiteErrors.push({ where: 'test/c.test.ts', error: 'Error: boom in afterAll' }, { where: 'test/c.test.ts > inner', error: 'Error: boom in beforeAll' });
    facts.failedModules.push('test/c.test.ts');
    expect(count(facts, { vitestStatus: 1 }).summary).toBe('2 passed, 3 failed');
  });

  it('counts a file that failed to load', () => {
    const facts = healthy();
    facts.suiteErrors.push({ where: 'test/d.test.ts', error: "Error: Cannot find module './gone.ts'" });
    facts.failedModules.push('test/d.test.ts');
    expect(count(facts, { vitestStatus: 1 }).summary).toBe('2 passed, 1 failed');
  });

  it('counts a failed file that no test or hook explains', () => {
    const facts = healthy();
    facts.failedModules.push('test/e.test.ts');
    expect(count(facts, { vitestStatus: 1 }).failures).toEqual(['file failed without a failed test: test/e.test.ts']);
  });

  it('counts every unhandled error, though every test passed', () => {
    const facts = healthy();
    facts.unhandledErrors.push('Error: unhandled boom', 'Error: another');
    expect(count(facts, { vitestStatus: 1 }).summary).toBe('2 passed, 2 failed');
  });

  it('counts an interrupted run', () => {
    expect(count({ ...healthy(), reason: 'interrupted' }, { vitestStatus: 1 }).failures).toEqual(['the run was interrupted']);
  });

  it('fails a run with fewer tests than the repository expects, skipped ones not counting', () => {
    const facts = healthy();
    facts.tests.push({ name: 'test/a.test.ts > skipped', state: 'skipped' });
    const result = count(facts, { minTests: 3 });
    expect(result.summary).toBe('2 passed, 1 failed');
    expect(result.failures[0]).toMatch(/only 2 tests ran, fewer than the 3 expected/);
  });

  it('fails a non-zero vitest exit that nothing in the facts explains', () => {
    expect(count(healthy(), { vitestStatus: 1 }).failures).toEqual(['vitest exited with status 1 although no test failed (see its output above)']);
  });

  it('fails when the reporter wrote nothing', () => {
    expect(count(undefined, { vitestStatus: 1 }).summary).toBe('0 passed, 1 failed');
  });
});
