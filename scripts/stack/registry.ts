// Apicurio Registry with KafkaSQL storage: every schema is a record in the broker's journal topic,
// so schemas (and their ids) survive registry restarts for as long as .stack/kafka/data lives.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ensureRegistryDist, registryLauncherJar } from './install.ts';
import { brokers, host, registryLayout, registryManagementPort, registryPort, registryUrl } from './layout.ts';
import { checkJava, checkPortsFree } from './prerequisites.ts';
import { registryRuntime } from './registry-runtime.ts';
import { ownedPid, spawnDetached, stopService, tailLines, waitUntilAnswering } from './processes.ts';

type Log = (line: string) => void;

// Quarkus boots in ~3-8 s, then replays the whole journal topic before it serves requests.
export const registryReadyTimeoutMs = 120_000;
const registryGracefulStopMs = 20_000;
const probeRequestTimeoutMs = 2_000;
const failureLogLines = 30;
const journalTopic = 'kafkasql-journal';

function registrySettings(snapshotDir: string): Record<string, string> {
  return {
    'quarkus.http.host': host,
    'quarkus.http.port': String(registryPort),
    // Apicurio 3 turns on Quarkus' management interface, on every interface at 9000 unless told.
    'quarkus.management.host': host,
    'quarkus.management.port': String(registryManagementPort),
    'quarkus.http.access-log.enabled': 'false',
    // The shipped pattern prints dates as "2026-11+00-21".
    'quarkus.log.console.format': '%d{yyyy-MM-dd HH:mm:ss,SSS} %-5p [%c{3.}] (%t) %s%e%n',
    'apicurio.storage.kind': 'kafkasql',
    'apicurio.kafkasql.bootstrap.servers': brokers,
    'apicurio.kafkasql.topic': journalTopic,
    // Every `apicurio.kafkasql.topic.<config>` is passed to the broker as a topic config when
    // the registry creates its topics (3.0.x rejects `partitions` or `replication.factor` there
    // as unknown configs, and derives the replication factor itself as min(3, live brokers): 1
    // on this node). 3.0.x would otherwise create the journal with the broker's 7-day
    // retention, and schemas older than a week would vanish from the journal.
    'apicurio.kafkasql.topic.cleanup.policy': 'delete',
    'apicurio.kafkasql.topic.retention.ms': '-1',
    'apicurio.kafkasql.topic.retention.bytes': '-1',
    // At boot the registry polls the snapshots topic once for this long; 5 s (the default) is
    // most of its startup on an empty topic. A snapshot missed here costs nothing but time: the
    // journal keeps everything and is then replayed from its start.
    'apicurio.kafkasql.consumer.poll.timeout': '1000',
    // Each boot joins a fresh group (registry id + random uuid) and replays the journal from the
    // start, so committed offsets are never read. A group without offsets is dropped by the
    // broker's periodic cleanup soon after its registry stops, instead of lingering in
    // `consumer-groups --list` for the week of offset retention.
    'apicurio.kafkasql.consumer.enable.auto.commit': 'false',
    'apicurio.storage.snapshot.location': snapshotDir,
    'apicurio.import.work-dir': snapshotDir,
    // Confluent wire format ids are content ids: identical schema text under two subjects gets
    // one id, as with Confluent's registry, and GET /schemas/ids/{id} resolves exactly that id.
    // Legacy mode would hand out per-version global ids instead; one fixed choice keeps the ids
    // already written in topics resolvable after restarts, so it is pinned rather than defaulted.
    'apicurio.ccompat.legacy-id-mode.enabled': 'false',
    // Tests register throwaway subjects; Confluent's API lets them be deleted, Apicurio 3 only
    // when these are on.
    'apicurio.rest.deletion.artifact.enabled': 'true',
    'apicurio.rest.deletion.artifact-version.enabled': 'true',
    'apicurio.rest.deletion.group.enabled': 'true',
  };
}

export function registryPid(): Promise<number | undefined> {
  const layout = registryLayout();
  // Any release under our apicurio folder counts, so `stop` still finds a registry started
  // before the release changed (with another Java at hand).
  return ownedPid(layout, layout.home);
}

/** True when the Confluent-compatible API lists subjects, i.e. the journal has been replayed. */
export async function registryAnswers(): Promise<boolean> {
  try {
    const response = await fetch(`${registryUrl}/subjects`, { signal: AbortSignal.timeout(probeRequestTimeoutMs) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

function failureReport(): string {
  const layout = registryLayout();
  return `Last lines of ${layout.mainLog}:\n${tailLines(layout.mainLog, failureLogLines)}`;
}

function waitUntilReady(pid: number): Promise<void> {
  return waitUntilAnswering(pid, {
    label: 'Apicurio Registry',
    endpoint: `GET ${registryUrl}/subjects`,
    answers: registryAnswers,
    timeoutMs: registryReadyTimeoutMs,
    timeoutName: 'registryReadyTimeoutMs',
    exitedAdvice: 'Its log below says why; fix that, then rerun `npm run stack -- start`.',
    report: failureReport,
  });
}

/** Starts the registry unless ours already runs; the broker must already answer. */
export async function startRegistry(log: Log): Promise<{ pid: number; startedByUs: boolean }> {
  const running = await registryPid();
  if (running !== undefined) {
    await waitUntilReady(running);
    return { pid: running, startedByUs: false };
  }
  await checkJava();
  const launcherJar = registryLauncherJar(await ensureRegistryDist(log));
  assert(launcherJar !== undefined, 'an installed registry has a launcher jar');
  await checkPortsFree('schema registry', [registryPort, registryManagementPort]);
  const layout = registryLayout();
  fs.mkdirSync(layout.snapshotDir, { recursive: true });
  const systemProperties = Object.entries(registrySettings(layout.snapshotDir)).map(([key, value]) => `-D${key}=${value}`);
  const runtime = registryRuntime();
  const pid = spawnDetached(layout, runtime.java, [
    '-Xms128m', '-Xmx512m', '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true',
    ...systemProperties,
    '-jar', launcherJar,
  ], layout.home);
  log(`Apicurio Registry ${runtime.version} starting with ${runtime.java} (pid ${pid}), log ${layout.mainLog}`);
  await waitUntilReady(pid);
  return { pid, startedByUs: true };
}

export async function stopRegistry(log: Log): Promise<void> {
  await stopService('Apicurio Registry', registryLayout(), await registryPid(), registryGracefulStopMs, log);
}
