// One account: its numbers, a balance-over-time chart (the balance after each of its latest
// chartEventsMax events, from the history), its holds, its history a page at a time, and the
// statement as CSV. The CSV is fetched with the key in the header and saved from a Blob, since a
// plain link could not carry the header.
import { getJson, query, request } from './api.js';
import { badge, balanceEffect, el, fillRows, major, money, rememberCurrency, shortId, tile, typeLabel, when } from './format.js';

/** Events the chart shows at most (the newest): one history page. */
export const chartEventsMax = 1000;
export const historyPageSize = 25;
export const holdsPageSize = 10;

const $ = (id) => document.getElementById(id);
/** Axis times as precise as the chart's span needs: seconds within minutes, dates across days. */
function tickFormat(points) {
  const span = points.length < 2 ? 0 : points[points.length - 1].x - points[0].x;
  const hour = 3_600_000;
  if (span < 0.25 * hour) return new Intl.DateTimeFormat('sv-SE', { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  if (span < 36 * hour) return new Intl.DateTimeFormat('sv-SE', { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
}

const axisMoney = (value, currency) => {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency, notation: 'compact' }).format(value);
  } catch {
    return String(value);
  }
};
const path = (accountId, tail = '') => `/api/v1/accounts/${encodeURIComponent(accountId)}${tail}`;

export class AccountView {
  constructor({ fail }) {
    this.fail = fail;
    this.account = null;
    this.chart = null;
    this.historyCursor = null;
    this.holdsCursor = null;
    $('download-csv').addEventListener('click', () => void this.downloadCsv());
    $('history-more').addEventListener('click', () => void this.loadHistory(true));
    $('holds-more').addEventListener('click', () => void this.loadHolds(true));
    $('holds-status').addEventListener('change', () => void this.loadHolds(false));
  }

  /** Shows the account (everything reloaded). */
  async show(accountId) {
    try {
      this.account = await getJson(path(accountId));
      this.renderSummary();
      await Promise.all([this.loadChart(), this.loadHistory(false), this.loadHolds(false)]);
    } catch (error) {
      this.fail(error);
    }
  }

  /** Reloads after a live event for the account, at least at `version`, if it is still the one shown. */
  async refresh(accountId, version) {
    if (this.account === null || this.account.accountId !== accountId) return;
    try {
      this.account = await getJson(path(this.account.accountId, query({ minVersion: version })));
      this.renderSummary();
      await Promise.all([this.loadChart(), this.loadHistory(false), this.loadHolds(false)]);
    } catch (error) {
      this.fail(error);
    }
  }

  renderSummary() {
    const a = this.account;
    rememberCurrency(a.accountId, a.currency);
    $('account-title').textContent = a.ownerName;
    $('account-id').textContent = `${a.accountId} · ${a.currency}`;
    $('account-tiles').replaceChildren(
      tile('Balance', money(a.balance, a.currency), a.balance < 0 ? 'tile-bad' : ''),
      tile('Available', money(a.availableBalance, a.currency)),
      tile('Held', money(a.heldBalance, a.currency)),
      tile('Overdraft limit', money(a.overdraftLimit, a.currency)),
      el('div', { class: 'tile' }, [el('div', { class: 'tile-label', text: 'Status' }), el('div', { class: 'tile-value' }, [badge(a.status)])]),
      tile('Version', String(a.version)),
    );
  }

  async loadChart() {
    const a = this.account;
    const page = await getJson(path(a.accountId, `/history${query({ limit: chartEventsMax })}`));
    const points = page.items.slice().reverse().map((e) => ({ x: Date.parse(e.occurredAt), y: major(e.balanceAfter, a.currency), minor: e.balanceAfter }));
    // The balance holds until now: the line runs on to the right edge (a point of its own, not an event).
    const last = points[points.length - 1];
    if (last !== undefined) points.push({ x: Math.max(Date.now(), last.x), y: last.y, minor: last.minor, now: true });
    $('chart-caption').textContent = page.nextCursor === null ? `${page.items.length} events` : `latest ${page.items.length} events`;
    this.drawChart(points);
  }

  drawChart(points) {
    const Chart = window.Chart;
    if (Chart === undefined) {
      $('chart-caption').textContent = 'chart library not loaded';
      return;
    }
    const currency = this.account.currency;
    const data = { datasets: [{ label: `Balance (${currency})`, data: points, stepped: 'after', borderColor: '#1d5fa8', backgroundColor: 'rgba(29, 95, 168, 0.12)', fill: true, pointRadius: (context) => (context.raw?.now === true || points.length > 60 ? 0 : 3), borderWidth: 2 }] };
    const tickTime = tickFormat(points);
    if (this.chart !== null) {
      this.chart.data = data;
      Object.assign(this.chart.options.scales.x, { min: points[0]?.x, max: points[points.length - 1]?.x });
      this.chart.options.scales.x.ticks.callback = (value) => tickTime.format(new Date(value));
      this.chart.update('none');
      return;
    }
    this.chart = new Chart($('balance-chart'), {
      type: 'line',
      data,
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        parsing: false,
        interaction: { mode: 'nearest', intersect: false },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { title: (items) => (items[0].raw.now ? 'now' : when(new Date(items[0].parsed.x).toISOString())), label: (item) => money(item.raw.minor, currency) } },
        },
        scales: {
          x: { type: 'linear', min: points[0]?.x, max: points[points.length - 1]?.x, ticks: { maxTicksLimit: 6, callback: (value) => tickTime.format(new Date(value)) }, grid: { display: false } },
          y: { ticks: { maxTicksLimit: 6, callback: (value) => axisMoney(value, currency) }, grace: '5%' },
        },
      },
    });
  }

  async loadHistory(more) {
    const a = this.account;
    const cursor = more ? this.historyCursor : null;
    const page = await getJson(path(a.accountId, `/history${query({ limit: historyPageSize, cursor })}`));
    this.historyCursor = page.nextCursor;
    const rows = page.items.map((e) => {
      const sign = balanceEffect(e.type);
      const detail = e.counterpartyAccountId !== null ? `${e.reference ?? ''} ↔ ${shortId(e.counterpartyAccountId)}`.trim() : (e.reference ?? e.reason ?? '');
      const detailTitle = [e.reference, e.counterpartyAccountId, e.reason].filter((v) => v !== null && v !== undefined).join(' · ');
      return el('tr', { 'data-sequence': e.sequence }, [
        el('td', { class: 'num wide-only', text: e.sequence }),
        el('td', { text: when(e.occurredAt) }),
        el('td', { text: typeLabel(e.type) }),
        el('td', { class: `num ${sign > 0 ? 'credit' : sign < 0 ? 'debit' : ''}`, text: `${sign > 0 ? '+' : sign < 0 ? '−' : ''}${money(e.amount, a.currency)}` }),
        el('td', { class: 'num', text: money(e.balanceAfter, a.currency) }),
        el('td', { class: 'wide-only clip', text: detail, title: detailTitle }),
        el('td', { class: 'wide-only mono', text: e.actor ?? '' }),
      ]);
    });
    const tbody = $('history-table').tBodies[0];
    if (more) tbody.append(...rows);
    else fillRows(tbody, rows);
    $('history-more').hidden = page.nextCursor === null;
  }

  async loadHolds(more) {
    const a = this.account;
    const cursor = more ? this.holdsCursor : null;
    const page = await getJson(path(a.accountId, `/holds${query({ limit: holdsPageSize, status: $('holds-status').value, cursor })}`));
    this.holdsCursor = page.nextCursor;
    const rows = page.items.map((h) => el('tr', { 'data-hold-id': h.holdId }, [
      el('td', { text: when(h.placedAt) }),
      el('td', {}, [badge(h.status)]),
      el('td', { class: 'num', text: money(h.amount, a.currency) }),
      el('td', { class: 'num wide-only', text: h.capturedAmount === null ? '—' : money(h.capturedAmount, a.currency) }),
      el('td', { class: 'wide-only clip', text: h.reference ?? '', title: h.reference ?? '' }),
      el('td', { class: 'wide-only', text: when(h.expiresAt) }),
    ]));
    const tbody = $('holds-table').tBodies[0];
    if (more) tbody.append(...rows);
    else fillRows(tbody, rows);
    $('holds-empty').hidden = tbody.rows.length > 0;
    $('holds-more').hidden = page.nextCursor === null;
  }

  async downloadCsv() {
    const a = this.account;
    try {
      const response = await request(path(a.accountId, '/statement?format=csv'), { accept: 'text/csv' });
      const blob = await response.blob();
      const url = URL.createObjectURL(blob);
      const link = el('a', { href: url, download: `statement-${a.accountId}.csv` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (error) {
      this.fail(error);
    }
  }
}
