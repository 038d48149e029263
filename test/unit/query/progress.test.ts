import { describe, expect, it } from 'vitest';
import { Progress } from '../../../processors/query/progress.ts';
import type { Logger } from '../../../processors/log.ts';

function recorder(): { log: Logger; lines: Array<{ msg: string } & Record<string, unknown>> } {
  const lines: Array<{ msg: string } & Record<string, unknown>> = [];
  const write = (msg: string, fields: Record<string, unknown> = {}) => void lines.push({ msg, ...fields });
  return { log: { info: write, warn: write, error: write }, lines };
}

describe('readiness', () => {
  it('is false before any assignment and while a partition is being prepared', () => {
    const progress = new Progress(recorder().log);
    expect(progress.ready()).toBe(false);
    progress.assign([0, 1]);
    progress.begin(0, 'resume', 10n, 10n, 'matches');
    expect(progress.ready()).toBe(false);
    expect(progress.report().partitions.map((p) => p.phase)).toEqual(['live', 'preparing']);
  });

  it('becomes true once every assigned partition reached the log end it was given', () => {
    const { log, lines } = recorder();
    const progress = new Progress(log);
    progress.assign([0, 1]);
    progress.begin(0, 'rebuild', 0n, 100n, 'reset');
    progress.begin(1, 'resume', 40n, 50n, 'matches');
    progress.advance(0, 60n, 60);
    progress.advance(1, 50n, 10);
    expect(progress.ready()).toBe(false);
    expect(progress.report().partitions[0]).toMatchObject({ phase: 'rebuilding', percent: 60, position: '60', target: '100' });
    progress.advance(0, 101n, 40);
    expect(progress.ready()).toBe(true);
    expect(lines.map((l) => l.msg)).toEqual(['partition caught up', 'partition rebuilt', 'views caught up']);
    expect(lines[2]).toMatchObject({ partitions: 2, events: 110 });
  });

  it('a position never moves backwards, and a new assignment starts over', () => {
    const progress = new Progress(recorder().log);
    progress.assign([3]);
    progress.begin(3, 'rebuild', 0n, 10n, 'missing');
    progress.advance(3, 8n, 8);
    progress.advance(3, 5n, 0);
    expect(progress.position(3)).toBe(8n);
    progress.advance(3, 10n, 2);
    expect(progress.ready()).toBe(true);
    progress.assign([3, 4]);
    expect(progress.ready()).toBe(false);
  });

  it('an instance with no partitions is not ready: it can answer nothing', () => {
    const progress = new Progress(recorder().log);
    progress.assign([]);
    expect(progress.ready()).toBe(false);
  });
});
