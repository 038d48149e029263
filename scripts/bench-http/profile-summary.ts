// Top self-time functions of a V8 CPU profile (.cpuprofile, as `node --cpu-prof` writes it), so a
// bench run can say where the gateway's time went without opening DevTools. Also runnable:
// `tsx scripts/bench-http/profile-summary.ts <file.cpuprofile> [top]`.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  function: string;
  where: string;
  selfMs: number;
  percent: number;
}

const root = fileURLToPath(new URL('../..', import.meta.url));

function where(url: string, line: number): string {
  if (url === '') return '';
  const path = url.startsWith('file://') ? relative(root, fileURLToPath(url)) : url;
  return `${path.replace(/^node_modules\//, '~/')}:${line + 1}`;
}

/** What a frame belongs to: a package, the node runtime, our code, or V8 itself. */
function ownerOf(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : 'native (syscalls, buffers)';
  if (url.startsWith('node:')) return 'node internals';
  const match = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  if (match !== null) return match[1] ?? 'node_modules';
  const path = url.startsWith('file://') ? relative(root, fileURLToPath(url)) : url;
  return path.split('/').slice(0, 1).join('/');
}

/** Self time per owner (package, node internals, gateway, schemas…), largest first. */
export function selfTimeByOwner(file: string): SelfTime[] {
  return aggregate(file, (frame) => [ownerOf(frame.url, frame.functionName || '(anonymous)'), ''], 20);
}

/** Self time per function (same name and place), largest first. */
export function topSelfTime(file: string, top = 25): SelfTime[] {
  return aggregate(file, (frame) => [frame.functionName || '(anonymous)', where(frame.url, frame.lineNumber)], top);
}

function aggregate(file: string, keyOf: (frame: ProfileNode['callFrame']) => [string, string], top: number): SelfTime[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMicroseconds = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i += 1) {
    const id = profile.samples[i] ?? 0;
    selfMicroseconds.set(id, (selfMicroseconds.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const totalMicroseconds = Math.max(1, profile.endTime - profile.startTime);
  const byFunction = new Map<string, SelfTime>();
  for (const [id, micros] of selfMicroseconds) {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) continue;
    const [name, place] = keyOf(frame);
    const key = `${name}@${place}`;
    const entry = byFunction.get(key) ?? { function: name, where: place, selfMs: 0, percent: 0 };
    entry.selfMs += micros / 1000;
    byFunction.set(key, entry);
  }
  return [...byFunction.values()]
    .map((e) => ({ ...e, selfMs: Math.round(e.selfMs), percent: Math.round((e.selfMs * 1000 * 1000) / totalMicroseconds) / 10 }))
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, top);
}

/**
 * The newest main-thread .cpuprofile in a folder, if any. Every thread writes one (tsx runs its
 * loader in a worker); the main thread's is `CPU.<date>.<time>.<pid>.0.<seq>.cpuprofile`.
 */
export function newestProfile(directory: string): string | undefined {
  let files: string[];
  try {
    files = readdirSync(directory).filter((f) => /\.0\.\d+\.cpuprofile$/.test(f));
  } catch {
    return undefined;
  }
  return files.map((f) => join(directory, f)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

export function formatSelfTime(entries: SelfTime[]): string {
  return entries.map((e) => `  ${e.percent.toFixed(1).padStart(5)}%  ${String(e.selfMs).padStart(7)} ms  ${e.function}  ${e.where}`).join('\n');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, top] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: tsx scripts/bench-http/profile-summary.ts <file.cpuprofile> [top]');
  console.log(`by owner:\n${formatSelfTime(selfTimeByOwner(file))}\n\nby function:\n${formatSelfTime(topSelfTime(file, top === undefined ? 25 : Number(top)))}`);
}
