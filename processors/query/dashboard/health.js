// The system health panel: GET /api/v1/system/health every healthPollMs while the page is
// visible — lag per partition (applied offset vs the log end now), the dead-letter topic, events
// applied per second — and the "Views" pill in the top bar.
import { getJson, AuthError } from './api.js';
import { badge, count, el, fillRows, tile, when } from './format.js';

export const healthPollMs = 5000;
/** Total lag shown in red past this: a few seconds of a busy ledger; less is normal between batches. */
export const lagWarnOffsets = 1000;

const $ = (id) => document.getElementById(id);

function render(report) {
  const pill = $('ready-pill');
  pill.textContent = report.ready ? 'Views: live' : 'Views: catching up';
  pill.className = `pill ${report.ready ? 'pill-ok' : 'pill-warn'}`;
  $('health-at').textContent = `as of ${when(report.at)}`;
  const lags = report.partitions.map((p) => p.lag).filter((lag) => lag !== null);
  const totalLag = lags.length === 0 ? null : lags.reduce((a, b) => a + b, 0);
  const dlq = report.deadLetters.offsets;
  $('health-tiles').replaceChildren(
    tile('Events / s', report.eventsPerSecond === null ? 'measuring…' : count(report.eventsPerSecond)),
    tile('Total lag (offsets)', count(totalLag), totalLag !== null && totalLag > lagWarnOffsets ? 'tile-bad' : ''),
    tile('Dead letters', count(dlq), dlq !== null && dlq > 0 ? 'tile-bad' : '', `offsets retained in ${report.deadLetters.topic}: its records plus one marker per transaction that wrote some`),
    tile('Parked events', count(report.parkedEvents), report.parkedEvents > 0 ? 'tile-bad' : '', 'events the views could not apply (see /metrics and the logs)'),
  );
  fillRows($('partitions-table').tBodies[0], report.partitions.map((p) => el('tr', {}, [
    el('td', { class: 'num', text: p.partition }),
    el('td', {}, [badge(p.phase)]),
    el('td', { class: 'num', text: p.appliedOffset ?? '—' }),
    el('td', { class: 'num', text: p.logEndOffset ?? '—' }),
    el('td', { class: `num ${p.lag > 0 ? 'debit' : ''}`, text: count(p.lag) }),
  ])));
  $('health-problem').hidden = report.problem === null;
  $('health-problem').textContent = report.problem ?? '';
}

export class HealthPanel {
  constructor() {
    this.timer = undefined;
  }

  async refresh() {
    try {
      render(await getJson('/api/v1/system/health'));
    } catch (error) {
      if (error instanceof AuthError) return this.stop();
      $('health-problem').hidden = false;
      $('health-problem').textContent = `Health unavailable: ${error.message}`;
      $('ready-pill').textContent = 'Views: unknown';
      $('ready-pill').className = 'pill pill-bad';
    }
  }

  start() {
    this.stop();
    void this.refresh();
    this.timer = setInterval(() => {
      if (!document.hidden) void this.refresh();
    }, healthPollMs);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
