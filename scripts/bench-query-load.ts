// The HTTP load loop of the query benchmark: `concurrency` keep-alive connections, each sending
// its next GET as soon as the previous answer is read (one request in flight per connection, so
// every latency is a real round trip), for a fixed duration. A raw-socket HTTP/1.1 client, as
// autocannon and wrk are: node's http.Agent costs the client more CPU per request than the server
// spends answering it, and on a 2-core box the client then caps the measurement. Runs as child
// processes (BENCH_LOAD_CLIENT=1, the spec as JSON on stdin) so the client can use more than one
// core; each prints its counts and latency samples as one JSON line.
import { benchApiKey } from './bench-key.ts';
import net from 'node:net';

export interface LoadSpec {
  baseUrl: string;
  /** Request paths; each request takes the next one round-robin from a random start. */
  paths: string[];
  concurrency: number;
  durationMs: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  statuses: Record<string, number>;
  /** Microseconds, one per completed request (bounded by samplesMax). */
  latenciesUs: Float64Array;
}

/** Latency samples kept per client: 10 s at 100,000 requests/s fits. */
const samplesMax = 1_000_000;
const headerEnd = Buffer.from('\r\n\r\n');

/** Parses one HTTP/1.1 response with a Content-Length (fastify always sends one); undefined until complete. */
function parseResponse(buffer: Buffer): { status: number; length: number } | undefined {
  const end = buffer.indexOf(headerEnd);
  if (end < 0) return undefined;
  const head = buffer.toString('latin1', 0, end);
  const status = Number(head.slice(9, 12));
  const match = /\r\ncontent-length: *(\d+)/i.exec(head);
  if (match === null) throw new Error(`response without content-length: ${head.slice(0, 200)}`);
  const length = end + 4 + Number(match[1]);
  return buffer.length >= length ? { status, length } : undefined;
}

/** Every GET carries the benchmark's key (bench-key.ts): the query service authenticates each one. */
const authorizationLine = `Authorization: Bearer ${benchApiKey}\r\n`;

function connection(spec: LoadSpec, url: URL, result: LoadResult, deadline: number, pick: () => string): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port), noDelay: true });
    let pending: Buffer = Buffer.alloc(0);
    let started = 0;
    const send = (): void => {
      if (performance.now() >= deadline) {
        socket.end();
        return resolve();
      }
      started = performance.now();
      socket.write(`GET ${pick()} HTTP/1.1\r\nHost: ${url.host}\r\n${authorizationLine}\r\n`);
    };
    socket.on('connect', send);
    socket.on('data', (data: Buffer) => {
      pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
      const response = parseResponse(pending);
      if (response === undefined) return;
      if (result.requests < samplesMax) result.latenciesUs[result.requests] = (performance.now() - started) * 1000;
      result.requests += 1;
      result.statuses[response.status] = (result.statuses[response.status] ?? 0) + 1;
      pending = pending.subarray(response.length);
      send();
    });
    socket.on('error', () => {
      result.errors += 1;
      resolve();
    });
  });
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const url = new URL(spec.baseUrl);
  const result: LoadResult = { requests: 0, errors: 0, statuses: {}, latenciesUs: new Float64Array(samplesMax) };
  const deadline = performance.now() + spec.durationMs;
  let next = Math.floor(Math.random() * spec.paths.length);
  const pick = (): string => spec.paths[next++ % spec.paths.length] as string;
  await Promise.all(Array.from({ length: spec.concurrency }, () => connection(spec, url, result, deadline, pick)));
  result.latenciesUs = result.latenciesUs.slice(0, Math.min(result.requests, samplesMax));
  return result;
}

/** The wire form of a result: latencies as base64 of their Float64Array bytes. */
export function decodeResult(line: string): LoadResult {
  const parsed = JSON.parse(line) as Omit<LoadResult, 'latenciesUs'> & { latencies: string };
  const bytes = Buffer.from(parsed.latencies, 'base64');
  const latenciesUs = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { requests: parsed.requests, errors: parsed.errors, statuses: parsed.statuses, latenciesUs };
}

if (process.env.BENCH_LOAD_CLIENT === '1') {
  let specText = '';
  for await (const chunk of process.stdin) specText += String(chunk);
  const result = await runLoad(JSON.parse(specText) as LoadSpec);
  const latencies = Buffer.from(result.latenciesUs.buffer, result.latenciesUs.byteOffset, result.latenciesUs.byteLength).toString('base64');
  process.stdout.write(JSON.stringify({ requests: result.requests, errors: result.errors, statuses: result.statuses, latencies }) + '\n');
}
