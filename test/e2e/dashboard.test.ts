// The dashboard (DESIGN §12) in a real headless Chromium against the real stack (account
// processor and gateway as processes, query processor in-process, one broker): sign in (a wrong
// key is refused with a message), find an account by owner name, open it (chart, history,
// holds), watch a deposit made over HTTP arrive in the live feed and on the account, download the
// CSV statement and parse it, read the health panel, then the same page on a phone. Screenshots
// go to reports/ (git-ignored). Chromium comes from scripts/install-browser.sh when missing; the
// test skips, saying why, only when no browser can be installed.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestLedger, waitFor, type TestLedger } from '../support/ledger.ts';
import { startService, type ServiceProcess } from '../support/processes.ts';
import { freePort } from '../../scripts/services.ts';
import { adminHeaders, testAdminKey } from '../support/keys.ts';
import { startQuery, type InProcessQuery } from '../integration/query-support.ts';
import { statementColumns } from '../../processors/query/statement.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const reports = join(root, 'reports');
/** apt-get update + install of chromium on a slow mirror; the script bounds each step itself. */
const installTimeoutMs = 20 * 60_000;

/** The system Chromium, installed by the project's script when missing; null (with the reason printed) when none can be had. */
function chromiumPath(): string | null {
  const run = spawnSync('bash', [join(root, 'scripts/install-browser.sh')], { encoding: 'utf8', timeout: installTimeoutMs });
  const path = run.stdout.trim().split('\n').at(-1) ?? '';
  if (run.status === 0 && path.startsWith('/')) return path;
  console.warn(`SKIPPED test/e2e/dashboard.test.ts: no Chromium could be installed (scripts/install-browser.sh exit ${run.status ?? run.signal}):\n${run.stderr}`);
  return null;
}
const browserPath = chromiumPath();

let ledger: TestLedger;
let processor: ServiceProcess;
let gateway: ServiceProcess;
let query: InProcessQuery;
let gatewayBase: string;
let browser: Browser;
let page: Page;
const problems: string[] = [];
const requested: string[] = [];
const accounts: Record<'ada' | 'grace' | 'alan', string> = { ada: '', grace: '', alan: '' };
let holdId: string;

async function post(path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${gatewayBase}${path}`, {
    method: 'POST', headers: { ...adminHeaders, 'idempotency-key': randomUUID(), 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const answer = (await response.json()) as Record<string, unknown>;
  const created = ['/holds', '/accounts', '/transfers', '/api-keys'].some((tail) => path.endsWith(tail));
  expect([path, response.status, answer.code]).toEqual([path, created ? 201 : 200, undefined]);
  return answer;
}

const shot = (name: string) => page.screenshot({ path: join(reports, name), fullPage: true });

describe.skipIf(browserPath === null)('dashboard in a real browser', () => {
  beforeAll(async () => {
    mkdirSync(reports, { recursive: true });
    ledger = await createTestLedger('dashboard', { partitions: 2 });
    processor = startService('processors/account/main.ts', ledger.env);
    const port = await freePort();
    gatewayBase = `http://127.0.0.1:${port}`;
    gateway = startService('gateway/main.ts', { ...ledger.env, GATEWAY_PORT: String(port), GATEWAY_HOST: '127.0.0.1', COMMAND_TIMEOUT_MS: '15000', LOG_LEVEL: 'warn' });
    [query, browser] = await Promise.all([startQuery(ledger), chromium.launch({ executablePath: browserPath!, headless: true })]);
    await waitFor(async () => ((await fetch(`${gatewayBase}/ready`).catch(() => undefined))?.ok ? true : undefined), { what: 'the gateway to be ready', timeoutMs: 60_000 });
    // Ada has history and a hold; two others make the search mean something.
    accounts.ada = (await post('/api/v1/accounts', { ownerName: 'Ada Lovelace', currency: 'EUR', initialBalance: 100_000 })).accountId as string;
    accounts.grace = (await post('/api/v1/accounts', { ownerName: 'Grace Hopper', currency: 'USD', initialBalance: 5_000 })).accountId as string;
    accounts.alan = (await post('/api/v1/accounts', { ownerName: 'Alan Turing', currency: 'EUR', initialBalance: 0 })).accountId as string;
    await post(`/api/v1/accounts/${accounts.ada}/deposit`, { amount: 25_000, reference: 'salary, "November"' });
    await post(`/api/v1/accounts/${accounts.ada}/withdraw`, { amount: 7_500, reference: 'rent' });
    holdId = (await post(`/api/v1/accounts/${accounts.ada}/holds`, { amount: 4_200, reference: 'hotel' })).holdId as string;
    await post('/api/v1/transfers', { fromAccountId: accounts.ada, toAccountId: accounts.alan, amount: 1_000 });
    // The transfer settles at the source after the credit: Ada's sixth event.
    await waitFor(async () => {
      const response = await fetch(`${query.processor.url}/api/v1/accounts/${accounts.ada}`, { headers: adminHeaders });
      return response.ok && ((await response.json()) as { version: number }).version === 6 ? true : undefined;
    }, { what: 'the views to hold Ada\'s six events', timeoutMs: 30_000 });

    const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true, locale: 'en-US', timezoneId: 'UTC' });
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (request) => requested.push(request.url()));
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await query?.processor.stop();
    await gateway?.kill('SIGTERM');
    await processor?.kill('SIGTERM');
    await ledger?.close();
  });

  it('asks for a key, refuses a wrong one and one without the read scope with a message, and keeps the right one out of URLs and localStorage', async () => {
    // A key that may write but not read, known to the query service once it follows the key topic.
    const writer = (await post('/api/v1/api-keys', { name: 'dashboard-writer', scopes: ['write'] })).key as string;
    await waitFor(async () => ((await fetch(`${query.processor.url}/api/v1/accounts`, { headers: { authorization: `Bearer ${writer}` } })).status === 403 ? true : undefined), {
      what: 'the query service to know the write-only key', timeoutMs: 30_000,
    });
    await page.goto(`${query.processor.url}/`);
    await page.locator('#signin').waitFor({ state: 'visible' });
    await shot('dashboard-1-sign-in.png');
    await page.fill('#api-key', 'lk_notakeyatall0_wrongwrongwrongwrongwrongwrongwrong');
    await page.click('#signin-form button[type=submit]');
    await expect.poll(() => page.textContent('#signin-error')).toContain('401 UNAUTHENTICATED');
    // The browser logs the refused request itself: expected here, and nowhere after.
    expect(problems).toEqual(['console: Failed to load resource: the server responded with a status of 401 (Unauthorized)']);
    problems.length = 0;
    await page.fill('#api-key', writer);
    await page.click('#signin-form button[type=submit]');
    await expect.poll(() => page.textContent('#signin-error')).toContain('403 FORBIDDEN');
    expect(await page.textContent('#signin-error')).toContain('read scope');
    problems.length = 0;
    await page.fill('#api-key', testAdminKey);
    await page.click('#signin-form button[type=submit]');
    await page.locator('#accounts-table tbody tr').first().waitFor();
    expect(await page.isHidden('#signin')).toBe(true);
    expect(page.url()).not.toContain(testAdminKey);
    expect(await page.evaluate(() => JSON.stringify(localStorage))).not.toContain(testAdminKey);
    expect(await page.evaluate(() => sessionStorage.getItem('kafka-ledger.apiKey'))).toBe(testAdminKey);
    const owners = await page.locator('#accounts-table tbody td:first-child').allTextContents();
    expect(owners.sort()).toEqual(['Ada Lovelace', 'Alan Turing', 'Grace Hopper']);
  });

  it('finds an account by owner name and opens it: numbers, chart, history and holds', async () => {
    await page.fill('#search-name', 'ADA');
    await page.click('#search-form button[type=submit]');
    await expect.poll(() => page.locator('#accounts-table tbody td:first-child').allTextContents()).toEqual(['Ada Lovelace']);
    await shot('dashboard-2-accounts-search.png');
    await page.click(`#accounts-table tr[data-account-id="${accounts.ada}"]`);
    await expect.poll(() => page.textContent('#account-title')).toBe('Ada Lovelace');
    // Opened 1000.00, +250.00, −75.00, hold, transfer −10.00 (and its settlement): six events, balance 1165.00.
    await expect.poll(() => page.locator('#history-table tbody tr').count()).toBe(6);
    expect(await page.textContent('#account-tiles')).toContain('€1,165.00');
    const history = await page.locator('#history-table tbody tr').allInnerTexts();
    expect(history.some((row) => row.includes('Money deposited') && row.includes('+€250.00'))).toBe(true);
    const points = await page.evaluate(() => {
      const canvas = document.getElementById('balance-chart') as HTMLCanvasElement;
      const chart = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { data: { datasets: Array<{ data: Array<{ y: number }> }> } } | undefined } }).Chart.getChart(canvas);
      return chart?.data.datasets[0]?.data.map((p) => p.y);
    });
    // One point per event, and the balance carried on to now.
    expect(points).toEqual([1000, 1250, 1175, 1175, 1165, 1165, 1165]);
    const hold = page.locator(`#holds-table tr[data-hold-id="${holdId}"]`);
    await hold.waitFor();
    expect(await hold.innerText()).toMatch(/active[\s\S]*€42\.00/);
  });

  it('a deposit made over HTTP appears in the live feed and on the open account', async () => {
    await expect.poll(() => page.textContent('#feed-state')).toBe('live');
    await post(`/api/v1/accounts/${accounts.ada}/deposit`, { amount: 12_345, reference: 'live feed' });
    const line = page.locator(`#feed li[data-account-id="${accounts.ada}"][data-type="MoneyDeposited"]`).first();
    await line.waitFor({ timeout: 30_000 });
    expect(await line.innerText()).toContain('+€123.45');
    await expect.poll(() => page.locator('#history-table tbody tr').count(), { timeout: 30_000 }).toBe(7);
    await expect.poll(() => page.textContent('#account-tiles')).toContain('€1,288.45');
    await expect.poll(() => page.textContent('#health-tiles')).toMatch(/Dead letters\s*0/);
    expect(await page.locator('#partitions-table tbody tr').count()).toBe(2);
    // The second health poll has a rate to show.
    await expect.poll(() => page.textContent('#health-tiles'), { timeout: 20_000 }).toMatch(/Events \/ s\s*[\d.,]+/);
    await shot('dashboard-3-account-laptop.png');
  });

  it('downloads the statement as CSV with the key in the header: the header row and a parsed row', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
    expect(download.suggestedFilename()).toBe(`statement-${accounts.ada}.csv`);
    const text = readFileSync(await download.path(), 'utf8');
    expect(text.split('\r\n')[0]).toBe(statementColumns.join(','));
    const rows = parse(text, { columns: true }) as Array<Record<string, string>>;
    expect(rows.length).toBe(7);
    expect(rows[1]).toMatchObject({ sequence: '2', type: 'MoneyDeposited', amount: '25000', signedAmount: '25000', balanceAfter: '125000', reference: 'salary, "November"', actor: 'bootstrap' });
    expect(rows.at(-1)).toMatchObject({ type: 'MoneyDeposited', amount: '12345', reference: 'live feed' });
  });

  it('fits a phone: one column, no sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    // Elements reaching past the screen's right edge (tables scroll inside their own box instead).
    const overflowing = () => page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const wide = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > width + 0.5 && e.closest('.table-wrap') === null);
      return { scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 5).map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`) };
    });
    await expect.poll(overflowing).toEqual({ scrollWidth: 390, wide: [] });
    await shot('dashboard-4-account-phone.png');
    await page.click('a.back');
    await page.locator('#accounts-table tbody tr').first().waitFor();
    await expect.poll(overflowing).toEqual({ scrollWidth: 390, wide: [] });
    await shot('dashboard-5-accounts-phone.png');
    expect(problems).toEqual([]);
    // Every request stayed on the query service, and no URL carried the key.
    expect(requested.filter((url) => !url.startsWith(`${query.processor.url}/`) && !url.startsWith('blob:') && !url.startsWith('data:'))).toEqual([]);
    expect(requested.filter((url) => url.includes(testAdminKey) || url.includes(encodeURIComponent(testAdminKey)))).toEqual([]);
    expect(requested.length).toBeGreaterThan(10);
  });
});
