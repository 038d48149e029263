// A cross-process mutex on .stack/lock so concurrent callers (two test workers, `npm start` and a
// test run) never start two brokers; a lock whose holder died is taken over, not waited out.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StackError } from './errors.ts';
import { lockFile } from './layout.ts';
import { isAlive, readPid } from './processes.ts';

// Longer than a cold start (downloads, format, both services booting) so waiters outlast it.
export const lockWaitMs = 600_000;
const lockPollMs = 250;
// Between create and write a lock file is briefly empty; only an old empty one is abandoned.
const emptyLockStaleMs = 10_000;

function tryCreate(file: string): boolean {
  try {
    fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function isStale(file: string): boolean {
  const holder = readPid(file);
  if (holder !== undefined) return holder !== process.pid && !isAlive(holder);
  try {
    return Date.now() - fs.statSync(file).mtimeMs > emptyLockStaleMs;
  } catch {
    return false; // Released meanwhile: the next attempt will create it.
  }
}

async function acquire(log: (line: string) => void): Promise<string> {
  const file = lockFile();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const deadline = Date.now() + lockWaitMs;
  let announced = false;
  while (Date.now() < deadline) {
    if (tryCreate(file)) return file;
    const holder = readPid(file);
    // Re-reading right before removal narrows the window in which two waiters that both saw the
    // same dead holder could remove a lock that one of them has just created.
    if (isStale(file) && readPid(file) === holder) {
      log(`removing stale stack lock ${file} (holder ${holder ?? 'unknown'} is gone)`);
      fs.rmSync(file, { force: true });
      continue;
    }
    if (!announced) {
      log(`waiting for another process (pid ${readPid(file) ?? '?'}) that holds ${file}`);
      announced = true;
    }
    await sleep(lockPollMs);
  }
  throw new StackError('LOCK_TIMEOUT', `Another process (pid ${readPid(file) ?? 'unknown'}) held the stack lock ${file} for more than lockWaitMs=${lockWaitMs} ms. If no stack command is running, delete that file and retry.`, { retriable: true });
}

/** Runs `action` while holding the stack lock; the lock is released however it ends. */
export async function withStackLock<T>(log: (line: string) => void, action: () => Promise<T>): Promise<T> {
  const file = await acquire(log);
  try {
    return await action();
  } finally {
    if (readPid(file) === process.pid) fs.rmSync(file, { force: true });
  }
}
