// Fetches the stack's jars from Maven Central with Maven (cached in the local Maven repository) and
// installs them under .stack atomically: a folder is renamed into place only once it is complete,
// so an interrupted download is retried rather than half-used.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { StackError } from './errors.ts';
import { kafkaLayout, kafkaPomFile, kafkaVersion, registryLayout, registryPomFile } from './layout.ts';
import { registryRuntime } from './registry-runtime.ts';
import { checkMaven, checkJava } from './prerequisites.ts';
import { runCommand } from './processes.ts';

type Log = (line: string) => void;

const mavenFailureLinesShown = 30;
const installedMarkerName = '.installed';

// eslint-disable-next-line no-control-regex
const ansiEscapes = /\u001b\[[0-9;]*m/g;

/** Extra Maven arguments: STACK_MAVEN_REPO_LOCAL points Maven at another local repository. */
function mavenCommonArgs(pomFile: string): string[] {
  const args = ['-q', '-B', '-Dstyle.color=never', '-f', pomFile];
  const repoLocal = process.env['STACK_MAVEN_REPO_LOCAL'];
  if (repoLocal) args.push(`-Dmaven.repo.local=${path.resolve(repoLocal)}`);
  return args;
}

async function runMaven(what: string, pomFile: string, goalArgs: string[]): Promise<void> {
  await checkMaven();
  const result = await runCommand('mvn', [...mavenCommonArgs(pomFile), ...goalArgs]);
  if (result.exitCode === 0) return;
  const output = (result.stdout + result.stderr).replace(ansiEscapes, '').trimEnd();
  const lastLines = output.split('\n').slice(-mavenFailureLinesShown).join('\n');
  throw new StackError('DOWNLOAD_FAILED', `Downloading ${what} with Maven failed (exit ${result.exitCode}). Check that Maven Central is reachable (proxy settings in ~/.m2/settings.xml) and rerun \`npm run stack -- start\`. Maven's last lines:\n${lastLines}`, { retriable: true });
}

/** What an installed folder was built from; any change to the version or the POM reinstalls. */
function markerText(version: string, pomFile: string): string {
  const pomHash = createHash('sha256').update(fs.readFileSync(pomFile)).digest('hex').slice(0, 16);
  return `${version}\n${pomHash}\n`;
}

function isInstalled(dir: string, expectedMarker: string): boolean {
  try {
    return fs.readFileSync(path.join(dir, installedMarkerName), 'utf8') === expectedMarker;
  } catch {
    return false;
  }
}

/** Replaces `finalDir` with `stagingDir` after stamping it, so readers see all or nothing. */
function publish(stagingDir: string, finalDir: string, marker: string): void {
  fs.writeFileSync(path.join(stagingDir, installedMarkerName), marker);
  fs.chmodSync(stagingDir, 0o755); // mkdtemp makes it owner-only.
  fs.rmSync(finalDir, { recursive: true, force: true });
  fs.renameSync(stagingDir, finalDir);
}

function stagingDirFor(finalDir: string): string {
  fs.mkdirSync(path.dirname(finalDir), { recursive: true });
  return fs.mkdtempSync(`${finalDir}.partial-`);
}

/** Kafka broker + CLI tool jars in .stack/kafka/lib; returns that folder. */
export async function ensureKafkaJars(log: Log): Promise<string> {
  const { libDir } = kafkaLayout();
  const marker = markerText(kafkaVersion, kafkaPomFile);
  if (isInstalled(libDir, marker)) return libDir;
  await checkJava();
  log(`installing Kafka ${kafkaVersion} jars from Maven Central into ${libDir}`);
  const staging = stagingDirFor(libDir);
  try {
    await runMaven(`Kafka ${kafkaVersion}`, kafkaPomFile, [
      'dependency:copy-dependencies',
      `-Dkafka.version=${kafkaVersion}`,
      '-DincludeScope=runtime',
      `-DoutputDirectory=${staging}`,
    ]);
    publish(staging, libDir, marker);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return libDir;
}

/**
 * The jar to `java -jar`: Quarkus fast-jar builds (Apicurio 3.1+) ship quarkus-run.jar, older
 * legacy-jar builds (3.0.x) an `<artifact>-runner.jar` next to lib/.
 */
export function registryLauncherJar(distDir: string): string | undefined {
  const names = fs.existsSync(distDir) ? fs.readdirSync(distDir) : [];
  const name = names.find((entry) => entry === 'quarkus-run.jar') ?? names.find((entry) => entry.endsWith('-runner.jar'));
  return name === undefined ? undefined : path.join(distDir, name);
}

/** Copies the registry tarball (cached in the local Maven repository) into `targetDir`. */
async function fetchRegistryTarball(targetDir: string): Promise<string> {
  await runMaven(`Apicurio Registry ${registryRuntime().version}`, registryPomFile, [
    'dependency:copy',
    `-Dregistry.version=${registryRuntime().version}`,
    `-DoutputDirectory=${targetDir}`,
  ]);
  const tarball = path.join(targetDir, 'apicurio-registry-app.tar.gz');
  if (!fs.existsSync(tarball)) {
    throw new StackError('DOWNLOAD_FAILED', `Maven reported success but left no ${tarball}. Delete ~/.m2/repository/io/apicurio/apicurio-registry-app/${registryRuntime().version} and rerun \`npm run stack -- start\`.`);
  }
  return tarball;
}

/** Earlier versions' folders are ~170 MB each and never used again once a new one is in place. */
function removeOtherRegistryVersions(distDir: string): void {
  const parent = path.dirname(distDir);
  for (const entry of fs.readdirSync(parent)) {
    const candidate = path.join(parent, entry);
    if (entry.startsWith('dist-') && candidate !== distDir) fs.rmSync(candidate, { recursive: true, force: true });
  }
}

/** Apicurio Registry's Quarkus app extracted into .stack/apicurio/dist-<version>; returns that folder. */
export async function ensureRegistryDist(log: Log): Promise<string> {
  const { distDir } = registryLayout();
  const marker = markerText(registryRuntime().version, registryPomFile);
  if (isInstalled(distDir, marker)) return distDir;
  await checkJava();
  log(`installing Apicurio Registry ${registryRuntime().version} from Maven Central into ${distDir}`);
  const staging = stagingDirFor(distDir);
  try {
    const tarball = await fetchRegistryTarball(staging);
    // System tar, not Maven's unpack: the tarball uses PAX long names that plexus-archiver truncates.
    const result = await runCommand('tar', ['-xzf', tarball, '-C', staging]);
    if (result.exitCode !== 0) {
      throw new StackError('DOWNLOAD_FAILED', `Extracting ${tarball} failed: ${result.stderr.trim()}. Delete ~/.m2/repository/io/apicurio/apicurio-registry-app/${registryRuntime().version} so Maven downloads it again, then rerun \`npm run stack -- start\`.`);
    }
    fs.rmSync(tarball);
    if (registryLauncherJar(staging) === undefined) {
      throw new StackError('DOWNLOAD_FAILED', `The Apicurio ${registryRuntime().version} tarball has neither quarkus-run.jar nor *-runner.jar at its root; the distribution layout changed. Check the releases in scripts/stack/registry-runtime.ts.`);
    }
    publish(staging, distDir, marker);
    removeOtherRegistryVersions(distDir);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return distDir;
}
