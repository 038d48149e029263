// The dashboard's Server-Sent Events parser (dashboard/feed.js): the browser reads the stream
// with fetch, so framing is ours to get right — fields, multi-line data, comments, every line
// ending, events split anywhere across chunks, and a bound on a line that never ends.
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain browser JavaScript, no types
import { feedBounds, sseParser } from '../../../processors/query/dashboard/feed.js';

type Frame = { id: string | undefined; event: string; data: string };

function parseAll(chunks: string[]): Frame[] {
  const frames: Frame[] = [];
  const feed = sseParser((frame: Frame) => frames.push(frame));
  for (const chunk of chunks) feed(chunk);
  return frames;
}

describe('dashboard SSE parser', () => {
  it('reads id, event and data, skips comments, and joins multi-line data', () => {
    const text = ': kafka-ledger events\n\nid: 0:5\nevent: MoneyDeposited\ndata: {"a":1}\n\n: heartbeat\n\nevent: gap\ndata: line one\ndata:line two\n\n';
    expect(parseAll([text])).toEqual([
      { id: '0:5', event: 'MoneyDeposited', data: '{"a":1}' },
      { id: undefined, event: 'gap', data: 'line one\nline two' },
    ]);
  });

  it('gives the same events however the stream is cut into chunks, with LF, CRLF or CR line ends', () => {
    // A final CR could be half of a CRLF until the next character comes: the heartbeat that follows tells.
    const events = 'id: 1:7\nevent: A\ndata: {"x":"é"}\n\nid: 1:8\nevent: B\ndata: 2\n\n: heartbeat\n';
    const expected = [{ id: '1:7', event: 'A', data: '{"x":"é"}' }, { id: '1:8', event: 'B', data: '2' }];
    for (const ending of ['\n', '\r\n', '\r']) {
      const text = events.replaceAll('\n', ending);
      expect(parseAll([text])).toEqual(expected);
      expect(parseAll([...text])).toEqual(expected);
      for (let cut = 1; cut < text.length; cut += 7) expect(parseAll([text.slice(0, cut), text.slice(cut)])).toEqual(expected);
    }
  });

  it('a frame without data dispatches nothing, and an unfinished frame waits for its blank line', () => {
    expect(parseAll(['id: 3:1\nevent: X\n\n', 'data: late'])).toEqual([]);
  });

  it('a line longer than lineCharsMax throws instead of growing the buffer', () => {
    const feed = sseParser(() => undefined);
    expect(() => feed(`data: ${'x'.repeat(feedBounds.lineCharsMax)}`)).toThrow(/exceeds/);
  });
});
