// A vitest reporter for CI that records what happened, not a verdict: every test's state, every
// error outside a test (a file that failed to load, a failed beforeAll/afterAll in a file or a
// describe block) and every unhandled error. vitest's JSON report hides the last two kinds (a
// failed beforeAll only marks its tests skipped; an unhandled error leaves "success": true), so
// `.ci/run` counts from this file instead (scripts/ci-count.ts decides what is a failure).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import type { Reporter, TestModule, TestRunEndReason, TestSuite } from 'vitest/node';
import type { RunFacts } from './count.ts';

type SerializedError = Parameters<NonNullable<Reporter['onTestRunEnd']>>[1][number];

/** Where the facts go; `.ci/run` passes its own path. */
export const factsFileDefault = 'reports/ci-facts.json';

const firstLine = (error: SerializedError): string => `${error.name ?? 'Error'}: ${String(error.message).split('\n')[0]}`;

function suiteErrors(owner: TestModule | TestSuite, where: string, out: RunFacts['suiteErrors']): void {
  for (const error of owner.errors()) out.push({ where, error: firstLine(error) });
  for (const suite of owner.children.allSuites()) for (const error of suite.errors()) out.push({ where: `${where} > ${suite.fullName}`, error: firstLine(error) });
}

export default class FactsReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<SerializedError>, reason: TestRunEndReason): void {
    const facts: RunFacts = { reason, tests: [], suiteErrors: [], failedModules: [], unhandledErrors: unhandled.map(firstLine) };
    for (const module of modules) {
      const file = relative(process.cwd(), module.moduleId);
      suiteErrors(module, file, facts.suiteErrors);
      if (module.state() === 'failed') facts.failedModules.push(file);
      for (const test of module.children.allTests()) {
        const result = test.result();
        facts.tests.push({
          name: `${file} > ${test.fullName}`,
          state: result.state,
          ...(result.state === 'failed' ? { error: (result.errors ?? []).map(firstLine).join('; ') } : {}),
        });
      }
    }
    const file = process.env.CI_FACTS_FILE ?? factsFileDefault;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(facts, null, 2));
  }
}
