// Which Apicurio Registry release the stack runs, and with which java. Apicurio 3.1 and later are
// compiled for Java 21 (class file 65) and die at boot on Java 17 (UnsupportedClassVersionError),
// so 3.3.x runs when a Java 21+ is at hand — the java on PATH or a JDK under /usr/lib/jvm (this
// machine image ships Temurin 25 there), or STACK_REGISTRY_JAVA, which decides alone — and otherwise 3.0.9, the
// newest release on Maven Central that runs on Java 17. Both read the same KafkaSQL journal
// (checked: 3.3.3 served the subjects and ids 3.0.9 had written), so switching keeps schemas.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { javaMajorVersion } from './prerequisites.ts';

export const registryReleaseModern = { version: '3.3.3', javaMajorMin: 21 } as const;
export const registryReleaseJava17 = { version: '3.0.9', javaMajorMin: 17 } as const;
/** `java -version` must answer within this long for a candidate to count. */
const javaProbeTimeoutMs = 10_000;
const jvmRoot = '/usr/lib/jvm';

export interface RegistryRuntime {
  version: string;
  /** The java binary that runs it. */
  java: string;
}

function majorOf(java: string): number | undefined {
  const result = spawnSync(java, ['-version'], { encoding: 'utf8', timeout: javaProbeTimeoutMs });
  if (result.error !== undefined || result.status !== 0) return undefined;
  return javaMajorVersion(`${result.stderr}${result.stdout}`);
}

function candidates(): string[] {
  let installed: string[] = [];
  try {
    installed = fs
      .readdirSync(jvmRoot)
      .sort()
      .reverse()
      .map((dir) => path.join(jvmRoot, dir, 'bin', 'java'))
      .filter((java) => fs.existsSync(java));
  } catch {
    // no /usr/lib/jvm on this machine
  }
  return ['java', ...installed];
}

let chosen: RegistryRuntime | undefined;

export function registryRuntime(): RegistryRuntime {
  if (chosen !== undefined) return chosen;
  const explicit = process.env['STACK_REGISTRY_JAVA'];
  // An explicit java decides alone: 3.3.x if it is 21+, else 3.0.9 with it.
  const found = explicit ? [explicit] : candidates();
  const modern = found.find((java) => (majorOf(java) ?? 0) >= registryReleaseModern.javaMajorMin);
  if (explicit && modern === undefined) return (chosen = { version: registryReleaseJava17.version, java: explicit });
  chosen = modern !== undefined ? { version: registryReleaseModern.version, java: modern } : { version: registryReleaseJava17.version, java: 'java' };
  return chosen;
}
