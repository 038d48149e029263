// `tsx scripts/ci-count.ts <facts.json> <vitest exit status> <min-tests file>`: prints every
// failure, then the line "N passed, N failed"; exits 0 only when nothing failed.
import { existsSync, readFileSync } from 'node:fs';
import { countRun, type RunFacts } from './ci/count.ts';

const [factsFile, status, minTestsFile] = process.argv.slice(2);
if (factsFile === undefined || status === undefined || minTestsFile === undefined) {
  console.error('usage: tsx scripts/ci-count.ts <facts.json> <vitest exit status> <min-tests file>');
  process.exit(2);
}

function readFacts(file: string): RunFacts | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunFacts;
  } catch {
    return undefined;
  }
}

const minTests = Number(readFileSync(minTestsFile, 'utf8').trim());
if (!Number.isInteger(minTests) || minTests < 0) {
  console.error(`${minTestsFile} must hold one whole number (the fewest tests a run may count)`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const count = countRun({ facts: readFacts(factsFile), vitestStatus: Number(status), minTests });
for (const failure of count.failures) console.log(`FAILED ${failure}`);
if (count.skipped > 0) console.log(`(${count.skipped} tests skipped)`);
console.log(count.summary);
process.exit(count.failures.length === 0 ? 0 : 1);
