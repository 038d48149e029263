// A minimal Server-Sent Events client over node:http, for tests: it parses frames as they arrive
// (id, event, data; comments skipped) and can pause reading to play a slow client.
import { get, type IncomingMessage } from 'node:http';
import { adminHeaders } from './keys.ts';

export interface SseFrame {
  id: string | undefined;
  event: string;
  data: string;
}

export interface SseConnection {
  status: number;
  /** The problem+json body when the status is not 200. */
  body: string;
  frames: SseFrame[];
  response: IncomingMessage;
  /** Resolves when the server ends or drops the stream. */
  ended: Promise<void>;
  close(): void;
}

/** Opens a stream with the tests' admin key unless `headers` carry another Authorization. */
export function openStream(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  return new Promise((resolve, reject) => {
    const request = get(url, { headers: { accept: 'text/event-stream', ...adminHeaders, ...headers } }, (response) => {
      const frames: SseFrame[] = [];
      let pending = '';
      let body = '';
      let endedResolve: () => void = () => undefined;
      const ended = new Promise<void>((r) => (endedResolve = r));
      response.on('close', endedResolve);
      response.on('error', endedResolve);
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (response.statusCode !== 200) return void (body += chunk);
        pending += chunk;
        const blocks = pending.split('\n\n');
        pending = blocks.pop() ?? '';
        for (const block of blocks) {
          const frame: SseFrame = { id: undefined, event: 'message', data: '' };
          let isComment = true;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            isComment = false;
            const colon = line.indexOf(':');
            const field = line.slice(0, colon);
            const value = line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') frame.id = value;
            else if (field === 'event') frame.event = value;
            else if (field === 'data') frame.data += value;
          }
          if (!isComment) frames.push(frame);
        }
      });
      const connection: SseConnection = { status: response.statusCode ?? 0, body: '', frames, response, ended, close: () => request.destroy() };
      if (response.statusCode === 200) return resolve(connection);
      response.on('end', () => resolve({ ...connection, body }));
    });
    request.on('error', reject);
  });
}
