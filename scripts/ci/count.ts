// What CI counts as a failure, from the facts the reporter recorded and vitest's exit status:
// a failed test, a file that failed to load, a failed beforeAll/afterAll, an unhandled error, an
// interrupted run, fewer tests than the repository expects (.ci/min-tests), and a non-zero exit
// that nothing else explains. Pure, so its unit test can feed it any broken run.

export interface RunFacts {
  reason: 'passed' | 'failed' | 'interrupted';
  tests: { name: string; state: 'passed' | 'failed' | 'skipped' | 'pending'; error?: string }[];
  /** Errors outside any test: load failures and failed hooks of a file or a describe block. */
  suiteErrors: { where: string; error: string }[];
  /** Files vitest marked failed (explained, usually, by a failed test or a suite error). */
  failedModules: string[];
  unhandledErrors: string[];
}

export interface CountInput {
  /** undefined: the reporter wrote nothing (vitest crashed or never ran). */
  facts: RunFacts | undefined;
  vitestStatus: number;
  minTests: number;
}

export interface Count {
  passed: number;
  /** One line per failure, in the order they are counted. */
  failures: string[];
  skipped: number;
  /** The last line of `.ci/run`. */
  summary: string;
}

export function countRun({ facts, vitestStatus, minTests }: CountInput): Count {
  if (facts === undefined) {
    const failures = [`no test facts were written: vitest did not finish (exit status ${vitestStatus})`];
    return { passed: 0, failures, skipped: 0, summary: `0 passed, ${failures.length} failed` };
  }
  const failures: string[] = [];
  const passed = facts.tests.filter((t) => t.state === 'passed').length;
  const failed = facts.tests.filter((t) => t.state === 'failed');
  const skipped = facts.tests.filter((t) => t.state === 'skipped' || t.state === 'pending').length;
  for (const t of failed) failures.push(`test failed: ${t.name}${t.error ? `: ${t.error}` : ''}`);
  for (const s of facts.suiteErrors) failures.push(`error outside a test (load or beforeAll/afterAll): ${s.where}: ${s.error}`);
  const explained = new Set([...failed.map((t) => t.name.split(' > ')[0]), ...facts.suiteErrors.map((s) => s.where.split(' > ')[0])]);
  for (const file of facts.failedModules) if (!explained.has(file)) failures.push(`file failed without a failed test: ${file}`);
  for (const error of facts.unhandledErrors) failures.push(`unhandled error: ${error}`);
  if (facts.reason === 'interrupted') failures.push('the run was interrupted');
  const ran = passed + failed.length;
  if (ran < minTests) failures.push(`only ${ran} tests ran, fewer than the ${minTests} expected (.ci/min-tests): tests went missing or were skipped`);
  if (failures.length === 0 && vitestStatus !== 0) failures.push(`vitest exited with status ${vitestStatus} although no test failed (see its output above)`);
  return { passed, failures, skipped, summary: `${passed} passed, ${failures.length} failed` };
}
