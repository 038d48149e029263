// Where the embedded stack keeps its jars, data, logs and pid files, and which ports and versions
// it uses. Everything lives under one git-ignored folder so `rm -rf .stack` is a full reset.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { registryRuntime } from './registry-runtime.ts';

// The newest 3.9.x on Maven Central.
export const kafkaVersion = '3.9.2';
// The registry's release depends on the Java at hand: see registry-runtime.ts.

export const host = '127.0.0.1';
// Fixed by default (the services' embedded defaults in topics/config.ts name them); a second stack
// beside the first (a long fault campaign while tests use the usual one) sets all four and STACK_DIR.
export const kafkaPort = portFromEnv('STACK_KAFKA_PORT', 9092);
export const controllerPort = portFromEnv('STACK_CONTROLLER_PORT', 9093);
export const registryPort = portFromEnv('STACK_REGISTRY_PORT', 8085);
/** Quarkus' management interface (health, metrics), which Apicurio 3 enables: bound to 127.0.0.1 here. */
export const registryManagementPort = portFromEnv('STACK_REGISTRY_MANAGEMENT_PORT', 9000);

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1024 || port > 65535) throw new Error(`${name}=${raw}: expected a port number from 1024 to 65535`);
  return port;
}

export const brokers = `${host}:${kafkaPort}`;
export const registryUrl = `http://${host}:${registryPort}/apis/ccompat/v7`;

const stackModuleDir = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(stackModuleDir, '..', '..');
export const kafkaPomFile = path.join(stackModuleDir, 'kafka-pom.xml');
export const registryPomFile = path.join(stackModuleDir, 'registry-pom.xml');

export function stackDir(): string {
  const override = process.env['STACK_DIR'];
  return override ? path.resolve(override) : path.join(repoRoot, '.stack');
}

export function lockFile(): string {
  return path.join(stackDir(), 'lock');
}

/** Files of one managed process: its pid file, console log and main log. */
export interface ServiceFiles {
  name: 'kafka' | 'registry';
  pidFile: string;
  consoleLog: string;
  mainLog: string;
}

export function kafkaLayout(): ServiceFiles & {
  home: string;
  libDir: string;
  dataDir: string;
  configDir: string;
  logDir: string;
  serverProperties: string;
  brokerLog4j: string;
  toolsLog4j: string;
} {
  const home = path.join(stackDir(), 'kafka');
  const logDir = path.join(home, 'logs');
  const configDir = path.join(home, 'config');
  return {
    name: 'kafka',
    home,
    libDir: path.join(home, 'lib'),
    dataDir: path.join(home, 'data'),
    configDir,
    logDir,
    serverProperties: path.join(configDir, 'server.properties'),
    brokerLog4j: path.join(configDir, 'log4j.properties'),
    toolsLog4j: path.join(configDir, 'tools-log4j.properties'),
    pidFile: path.join(home, 'kafka.pid'),
    consoleLog: path.join(logDir, 'kafka.out'),
    mainLog: path.join(logDir, 'server.log'),
  };
}

export function registryLayout(): ServiceFiles & { home: string; distDir: string; snapshotDir: string } {
  const home = path.join(stackDir(), 'apicurio');
  const consoleLog = path.join(home, 'logs', 'registry.out');
  return {
    name: 'registry',
    home,
    distDir: path.join(home, `dist-${registryRuntime().version}`),
    snapshotDir: path.join(home, 'snapshots'),
    pidFile: path.join(home, 'registry.pid'),
    consoleLog,
    // Quarkus logs to the console only; its console file is the registry's main log.
    mainLog: consoleLog,
  };
}
