// Gives a test run a real Kafka broker and schema registry, in this order of preference:
// KAFKA_BROKERS + SCHEMA_REGISTRY_URL from the environment; containers when a Docker engine is
// reachable; else the embedded local stack (JVM processes fetched from Maven Central).
// Tests receive the addresses through vitest's provide/inject, never through mocks.
import type { TestProject } from 'vitest/node';
import { startContainers, dockerReachable } from './containers.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    schemaRegistryUrl: string;
    stackKind: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string) => process.stderr.write(`[test-stack] ${line}\n`);
  let teardown = async () => {};
  let brokers = process.env.KAFKA_BROKERS ?? '';
  let registryUrl = process.env.SCHEMA_REGISTRY_URL ?? '';
  let kind = 'environment';
  if (brokers === '' || registryUrl === '') {
    if (await dockerReachable()) {
      kind = 'testcontainers';
      const containers = await startContainers(log);
      ({ brokers, registryUrl } = containers);
      teardown = containers.stop;
    } else {
      kind = 'embedded';
      const { ensureStack, stopStack } = await import('../../scripts/stack/index.ts');
      let stack;
      try {
        stack = await ensureStack({ log });
      } catch (error) {
        // Whatever half of the stack did come up must not outlive a failed run.
        await stopStack({ log }).catch(() => undefined);
        throw error;
      }
      ({ brokers, registryUrl } = stack);
      // A stack this run started is stopped afterwards unless asked to keep it for the next run.
      if (stack.startedByUs && process.env.KEEP_STACK !== '1') teardown = () => stopStack({ log });
    }
  }
  log(`using ${kind} stack: brokers=${brokers} registry=${registryUrl}`);
  project.provide('kafkaBrokers', brokers);
  project.provide('schemaRegistryUrl', registryUrl);
  project.provide('stackKind', kind);
  return teardown;
}
