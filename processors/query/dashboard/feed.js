// The live feed's connection: GET /api/v1/events/stream read with fetch and a ReadableStream,
// because EventSource cannot send the Authorization header (and the key must not go in the URL).
// Server-Sent Events are parsed here (id, event, data, comments), the last id is kept to resume
// with Last-Event-ID after a drop, and reconnects back off with jitter. Bounded: a line longer
// than feedBounds.lineCharsMax drops the connection instead of growing the buffer.
import { ApiError, authHeaders, checked, AuthError } from './api.js';

export const feedBounds = {
  /** No event of this API comes near it; a stream that sends one is broken, so we reconnect. */
  lineCharsMax: 1024 * 1024,
  reconnectMinMs: 1000,
  reconnectMaxMs: 30_000,
};

/** An SSE parser fed text chunks; calls `dispatch({id, event, data})` per complete event. */
export function sseParser(dispatch) {
  let buffer = '';
  let frame = { id: undefined, event: 'message', data: [] };
  const line = (text) => {
    if (text === '') {
      if (frame.data.length > 0) dispatch({ id: frame.id, event: frame.event, data: frame.data.join('\n') });
      frame = { id: undefined, event: 'message', data: [] };
      return;
    }
    if (text.startsWith(':')) return; // a comment: the stream's heartbeat
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    const value = colon === -1 ? '' : text.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') frame.data.push(value);
    else if (field === 'event') frame.event = value;
    else if (field === 'id') frame.id = value;
  };
  return (chunk) => {
    buffer += chunk;
    // A CR that ends the chunk may be the first half of a CRLF: it ends a line only once the next character is known.
    const held = buffer.endsWith('\r') ? '\r' : '';
    const lines = (held === '' ? buffer : buffer.slice(0, -1)).split(/\r\n|\r|\n/);
    buffer = (lines.pop() ?? '') + held;
    if (buffer.length > feedBounds.lineCharsMax) throw new Error(`an event stream line exceeds ${feedBounds.lineCharsMax} characters`);
    for (const text of lines) line(text);
  };
}

export class EventFeed {
  /** `onEvent(data, frame)` per event; `onState('live' | 'reconnecting' | 'stopped', detail)`. */
  constructor({ onEvent, onState }) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.lastEventId = undefined;
    this.controller = undefined;
    this.running = false;
    this.failures = 0;
    /** Bumped by every start: a loop left over from before a stop (asleep in its backoff) sees it and ends. */
    this.generation = 0;
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.generation += 1;
    void this.loop(this.generation);
  }

  stop() {
    this.running = false;
    this.controller?.abort();
    this.onState('stopped', '');
  }

  async loop(generation) {
    const current = () => this.running && this.generation === generation;
    while (current()) {
      try {
        await this.connect();
      } catch (error) {
        if (!current()) return;
        if (error instanceof AuthError) return this.stop();
        // A Last-Event-ID the service does not know (another ledger, a reset topic): start live.
        if (error instanceof ApiError && error.status === 400) this.lastEventId = undefined;
        this.failures += 1;
        this.onState('reconnecting', error instanceof Error ? error.message : String(error));
      }
      if (!current()) return;
      const backoff = Math.min(feedBounds.reconnectMaxMs, feedBounds.reconnectMinMs * 2 ** Math.min(this.failures, 5));
      await new Promise((resolve) => setTimeout(resolve, backoff / 2 + Math.random() * (backoff / 2)));
    }
  }

  async connect() {
    // Local: a connection left over from before a restart aborts only itself.
    const controller = new AbortController();
    this.controller = controller;
    const headers = { ...authHeaders(), accept: 'text/event-stream' };
    if (this.lastEventId !== undefined) headers['last-event-id'] = this.lastEventId;
    const response = await checked(await fetch('/api/v1/events/stream', { headers, cache: 'no-store', signal: controller.signal }));
    this.onState('live', '');
    this.failures = 0;
    const parse = sseParser((frame) => {
      if (frame.id !== undefined) this.lastEventId = frame.id;
      if (frame.event === 'gap') return this.onState('live', 'some events were missed while disconnected');
      try {
        this.onEvent(JSON.parse(frame.data), frame);
      } catch {
        // One frame that is not JSON is skipped; the feed goes on.
      }
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error('the event stream ended');
        parse(value);
      }
    } finally {
      controller.abort();
    }
  }
}
