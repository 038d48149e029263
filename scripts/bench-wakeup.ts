// `npm run bench:wakeup`: what one round trip between two processes over loopback TCP costs this
// machine in CPU, back to back and with pauses between (as at low load, where every command wakes
// the gateway, the broker's threads and the processor in turn). A measurement of the host, not of
// the ledger: it tells how much of the CPU per request `bench:http` reports at low load is the
// price of waking an idle process at all (issue 13). Asserts nothing.
import { fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

/** Round trips per pace; the server's start-up is not counted (it reports its CPU since the first byte). */
const roundTripsPerPace = 1000;
/** Pauses between round trips, in ms: 0 is back to back. */
const pacesMs = [0, 1, 5, 20];
/** A small Kafka request's size. */
const payloadBytes = 200;
/** The whole run gives up after this long. */
const runTimeoutMs = 120_000;

type Usage = NodeJS.CpuUsage;

function serve(): void {
  let since: Usage | undefined;
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('data', (data) => {
      since ??= process.cpuUsage();
      socket.write(data);
    });
  });
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as net.AddressInfo).port }));
  process.on('message', (message: { report?: boolean }) => {
    if (message.report !== true) return;
    process.send?.({ usage: process.cpuUsage(since) });
    since = undefined;
  });
  process.on('disconnect', () => process.exit(0));
}

const micros = (usage: Usage) => usage.user + usage.system;

async function measure(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv: process.execArgv });
  const timeout = setTimeout(() => {
    console.error(`bench:wakeup did not finish within ${runTimeoutMs} ms`);
    child.kill();
    process.exit(1);
  }, runTimeoutMs);
  const next = <T>() => new Promise<T>((resolve) => child.once('message', (m) => resolve(m as T)));
  const { port } = await next<{ port: number }>();
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise((resolve) => socket.once('connect', resolve));
  const payload = Buffer.alloc(payloadBytes, 1);
  // kafkajs' requests and answers fit one segment each, as this payload does.
  const roundTrip = () => new Promise((resolve) => {
    socket.once('data', resolve);
    socket.write(payload);
  });
  await roundTrip();
  console.log(`${roundTripsPerPace} round trips of ${payloadBytes} bytes per pace, loopback TCP, two Node processes`);
  console.log('pause ms   wall ms/rt   client CPU µs/rt (system)   server CPU µs/rt   both µs/rt');
  for (const paceMs of pacesMs) {
    child.send({ report: true });
    await next();
    const started = Date.now();
    const before = process.cpuUsage();
    for (let i = 0; i < roundTripsPerPace; i += 1) {
      await roundTrip();
      if (paceMs > 0) await new Promise((resolve) => setTimeout(resolve, paceMs));
    }
    const client = process.cpuUsage(before);
    const wall = (Date.now() - started) / roundTripsPerPace;
    child.send({ report: true });
    const { usage: server } = await next<{ usage: Usage }>();
    const per = (usage: Usage) => (micros(usage) / roundTripsPerPace).toFixed(0);
    console.log(`${String(paceMs).padStart(8)}   ${wall.toFixed(2).padStart(10)}   ${per(client).padStart(16)} (${(client.system / roundTripsPerPace).toFixed(0)})   ${per(server).padStart(16)}   ${((micros(client) + micros(server)) / roundTripsPerPace).toFixed(0).padStart(10)}`);
  }
  console.log('(a pause includes one timer wake-up of the client: the CPU per round trip with pauses is what an idle process pays to wake)');
  clearTimeout(timeout);
  socket.destroy();
  child.disconnect();
}

if (process.argv.includes('--serve')) serve();
else await measure();
