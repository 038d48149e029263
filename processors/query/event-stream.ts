// The live feed of GET /api/v1/events/stream (DESIGN §11): every event the consumer applies to
// the views, after its store write, as Server-Sent Events with id `<partition>:<offset>`. Only
// committed events reach it (the consumer reads read_committed) and each once per process (a
// duplicate the fold skips is not published). Everything here is bounded by streamBounds: the
// streams open at once, the bytes one client may leave unread (a slow client is cut off, never
// buffered without end), and the recent events kept to resume a stream after Last-Event-ID.
import type { ServerResponse } from 'node:http';
import { HttpProblem } from '../http/errors.ts';
import type { AccountEvent } from '../../schemas/types.ts';

export const streamBounds = {
  /** Streams open at once (STREAM_CLIENTS_MAX); one more answers 503 UNAVAILABLE. Worst-case memory: clientsMax × clientBufferBytesMax. */
  clientsMax: 16,
  /**
   * Bytes one client's socket may hold unsent (STREAM_CLIENT_BUFFER_BYTES_MAX); past it the client
   * is cut off and may resume. The consumer publishes a whole chunk at once (batchEventsMax, 5,000
   * events of ~400 bytes: 2 MB), so a client that keeps up must be able to hold one.
   */
  clientBufferBytesMax: 4 * 1024 * 1024,
  /** Recent events kept to resume from Last-Event-ID (STREAM_RESUME_EVENTS_MAX); older ids resume with a `gap` event. */
  resumeEventsMax: 2000,
  /** A comment line this often keeps idle streams open through proxies that close silent connections. */
  heartbeatMs: 15_000,
} as const;

export type StreamBounds = { [K in keyof typeof streamBounds]: number };

interface Published {
  /** Order of publication in this process. */
  position: number;
  id: string;
  event: AccountEvent;
  /** The SSE frame, rendered when first sent. */
  frame?: string;
}

interface Client {
  response: ServerResponse;
}

/** Where a stream starts: after a known position, live only, or live after telling the client it missed events. */
export type StreamStart = { after: number } | { live: true; gap?: string };

const lastEventIdPattern = /^(\d{1,10}):(\d{1,19})$/;

export class EventStream {
  private readonly recent: Published[] = [];
  private readonly positionById = new Map<string, number>();
  private readonly clients = new Set<Client>();
  private published = 0;
  /** Clients cut off for falling behind (metrics, tests). */
  cutOff = 0;
  private heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly topic: string,
    readonly partitions: number,
    /** The first offset of a partition this stream cannot have sent yet (service.ts), null when unknown here. */
    private readonly appliedNext: (partition: number) => bigint | null,
    readonly bounds: StreamBounds = streamBounds,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Called by the consumer after the store write that applied `event`. */
  publish(partition: number, offset: string, event: AccountEvent): void {
    const published: Published = { position: this.published, id: `${partition}:${offset}`, event };
    this.published += 1;
    this.recent.push(published);
    this.positionById.set(published.id, published.position);
    if (this.recent.length > this.bounds.resumeEventsMax) {
      const dropped = this.recent.shift();
      if (dropped !== undefined) this.positionById.delete(dropped.id);
    }
    for (const client of this.clients) this.send(client, published);
  }

  /** Where a stream with this Last-Event-ID starts; 400 VALIDATION_FAILED for an id this topic never issued. */
  start(lastEventId: string | undefined): StreamStart {
    if (lastEventId === undefined || lastEventId === '') return { live: true };
    const match = lastEventIdPattern.exec(lastEventId);
    if (match === null) throw new HttpProblem('VALIDATION_FAILED', `Last-Event-ID must be <partition>:<offset> as this stream sends it, not "${lastEventId.slice(0, 64)}"`);
    const partition = Number(match[1]);
    const offset = BigInt(match[2] as string);
    if (partition >= this.partitions) {
      throw new HttpProblem('VALIDATION_FAILED', `Last-Event-ID ${lastEventId} names partition ${partition}, but ${this.topic} has ${this.partitions}: it is from another topic`);
    }
    const position = this.positionById.get(lastEventId);
    if (position !== undefined) return { after: position };
    const next = this.appliedNext(partition);
    if (next !== null && offset >= next) {
      throw new HttpProblem('VALIDATION_FAILED', `Last-Event-ID ${lastEventId} is beyond what the views applied from ${this.topic} partition ${partition} (offset ${next} and later): it is from another topic`);
    }
    return { live: true, gap: `events after ${lastEventId} are older than the ${this.bounds.resumeEventsMax} kept for resume (resumeEventsMax): re-read the views for them` };
  }

  /** 503 UNAVAILABLE when clientsMax streams are open. */
  checkRoom(): void {
    if (this.clients.size >= this.bounds.clientsMax) {
      throw new HttpProblem('UNAVAILABLE', `${this.bounds.clientsMax} event streams are open already (streamBounds.clientsMax); retry later`);
    }
  }

  /** Takes over a response the route hijacked: headers, the events to resume, then live events. */
  attach(response: ServerResponse, start: StreamStart): void {
    this.checkRoom();
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const client: Client = { response };
    this.clients.add(client);
    response.on('close', () => this.clients.delete(client));
    response.write(': kafka-ledger events\n\n');
    if ('gap' in start && start.gap !== undefined) response.write(`event: gap\ndata: ${JSON.stringify({ detail: start.gap })}\n\n`);
    if ('after' in start) for (const published of this.recent) if (published.position > start.after && this.clients.has(client)) this.send(client, published);
    this.heartbeat ??= setInterval(() => this.beat(), this.bounds.heartbeatMs).unref();
  }

  /** Ends every stream (the server's shutdown waits for open responses otherwise). */
  closeAll(): void {
    for (const client of this.clients) client.response.end();
    this.clients.clear();
    this.stopHeartbeat();
  }

  private send(client: Client, published: Published): void {
    published.frame ??= frame(published);
    this.write(client, published.frame);
  }

  /** Every write goes through the bound, heartbeats included. */
  private write(client: Client, text: string): void {
    client.response.write(text);
    if (client.response.writableLength > this.bounds.clientBufferBytesMax) {
      this.clients.delete(client);
      this.cutOff += 1;
      client.response.destroy();
    }
  }

  private beat(): void {
    if (this.clients.size === 0) return this.stopHeartbeat();
    for (const client of this.clients) this.write(client, ': heartbeat\n\n');
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}

function frame({ id, event }: Published): string {
  const [partition, offset] = id.split(':');
  const data = {
    partition: Number(partition),
    offset,
    eventId: event.eventId,
    accountId: event.accountId,
    sequence: event.sequence,
    type: event.payload.type,
    occurredAt: new Date(event.occurredAt).toISOString(),
    commandId: event.commandId,
    payload: event.payload,
  };
  return `id: ${id}\nevent: ${event.payload.type}\ndata: ${JSON.stringify(data)}\n\n`;
}
