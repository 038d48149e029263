// Checks that fail fast with a fix-it message before anything is downloaded or started: a JDK of
// the right age, Maven, and free ports.
import net from 'node:net';
import { StackError } from './errors.ts';
import { host } from './layout.ts';
import { runCommand } from './processes.ts';

const javaMajorMin = 17;

let javaChecked = false;
let mavenChecked = false;

/** Reads the major version from `java -version` output ("1.8.0_392", "17.0.15", "21"). */
export function javaMajorVersion(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!match?.[1]) return undefined;
  const first = Number.parseInt(match[1], 10);
  return first === 1 && match[2] ? Number.parseInt(match[2], 10) : first;
}

export async function checkJava(): Promise<void> {
  if (javaChecked) return;
  const result = await runCommand('java', ['-version']);
  if (result.spawnError) {
    throw new StackError('JAVA_MISSING', `No \`java\` on PATH. The local stack runs Kafka and Apicurio on a JVM: install a JDK ${javaMajorMin} or newer (e.g. \`apt-get install openjdk-17-jdk-headless\`) and make sure \`java -version\` works.`);
  }
  const major = javaMajorVersion(result.stderr + result.stdout);
  if (major === undefined || major < javaMajorMin) {
    throw new StackError('JAVA_MISSING', `\`java -version\` reports ${JSON.stringify(result.stderr.split('\n')[0] ?? '')}; the local stack needs Java ${javaMajorMin} or newer. Install a newer JDK and put it first on PATH (or set JAVA_HOME/bin first on PATH).`);
  }
  javaChecked = true;
}

export async function checkMaven(): Promise<void> {
  if (mavenChecked) return;
  const result = await runCommand('mvn', ['-v']);
  if (result.spawnError || result.exitCode !== 0) {
    throw new StackError('MAVEN_MISSING', 'No working `mvn` on PATH. The local stack downloads Kafka and Apicurio from Maven Central with Maven: install Maven 3.6+ (e.g. `apt-get install maven`) and check that `mvn -v` works.');
  }
  mavenChecked = true;
}

/** True when nothing accepts connections on host:port and we could bind it ourselves. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export async function checkPortsFree(service: string, ports: number[]): Promise<void> {
  for (const port of ports) {
    if (await isPortFree(port)) continue;
    throw new StackError('PORT_TAKEN', `Port ${host}:${port}, needed by the local ${service}, is already in use by a process that this stack did not start. Find it with \`ss -ltnp 'sport = :${port}'\` (or \`lsof -iTCP:${port} -sTCP:LISTEN\`), stop it (another Kafka, a Docker container, an old stack whose .stack folder was deleted), then run \`npm run stack -- start\` again.`);
  }
}
