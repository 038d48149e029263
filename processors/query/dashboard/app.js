// The operations dashboard (DESIGN §12): sign in with an API key, then accounts, one account,
// system health and the live feed on one page. Routes are URL fragments (#/ and
// #/accounts/<id>); nothing secret ever goes into them.
import { AuthError, forgetKey, getJson, onRefused, storedKey, storeKey } from './api.js';
import { AccountsView } from './accounts.js';
import { AccountView } from './account.js';
import { HealthPanel } from './health.js';
import { EventFeed } from './feed.js';
import { balanceEffect, clock, count, currencyOf, el, money, rememberCurrency, shortId, typeLabel } from './format.js';

/** Lines the live feed keeps: the oldest go as new ones arrive. */
export const feedLinesMax = 100;
const accountRoute = /^#\/accounts\/([0-9a-fA-F-]{36})$/;

const $ = (id) => document.getElementById(id);

function notice(text) {
  $('notice').textContent = text;
  $('notice').hidden = text === '';
}

/** A failed load: a refused key has its own prompt; anything else is a notice naming the code. */
function fail(error) {
  if (error instanceof AuthError) return;
  notice(error.code === undefined ? `Request failed: ${error.message}` : `${error.code}: ${error.detail || error.message}`);
}

const accounts = new AccountsView({ open: (id) => (location.hash = `#/accounts/${id}`), fail });
const account = new AccountView({ fail });
const health = new HealthPanel();
const feed = new EventFeed({ onEvent: showEvent, onState: showFeedState });

function showFeedState(state, detail) {
  const pill = $('feed-state');
  pill.textContent = state;
  pill.className = `pill ${state === 'live' ? 'pill-ok' : state === 'reconnecting' ? 'pill-warn' : 'pill-muted'}`;
  pill.title = detail;
}

/** The amount an event moved (or opened with) as text: in its account's currency when the page knows it. */
function eventAmount(data) {
  const payload = data.payload ?? {};
  if (data.type === 'AccountOpened' && typeof payload.currency === 'string') rememberCurrency(data.accountId, payload.currency);
  const amount = typeof payload.amount === 'number' ? payload.amount : typeof payload.initialBalance === 'number' ? payload.initialBalance : null;
  if (amount === null) return '';
  const currency = currencyOf(data.accountId);
  return currency === null ? `${count(amount)} minor units` : money(amount, currency);
}

function showEvent(data) {
  const sign = balanceEffect(data.type);
  const link = el('button', { type: 'button', class: 'feed-account mono', text: `${shortId(data.accountId)} · #${data.sequence}`, title: data.accountId });
  link.addEventListener('click', () => (location.hash = `#/accounts/${data.accountId}`));
  const amount = eventAmount(data);
  const line = el('li', { class: 'fresh', 'data-account-id': data.accountId, 'data-type': data.type }, [
    el('span', { class: 'feed-time', text: clock(data.occurredAt) }),
    el('span', { class: 'feed-type', text: typeLabel(data.type) }),
    el('span', { class: `feed-amount ${sign > 0 ? 'credit' : sign < 0 ? 'debit' : ''}`, text: amount === '' ? '' : `${sign < 0 ? '−' : sign > 0 ? '+' : ''}${amount}` }),
    link,
  ]);
  const list = $('feed');
  list.prepend(line);
  while (list.children.length > feedLinesMax) list.lastElementChild.remove();
  $('feed-empty').hidden = true;
  // The open account changed: show it at (at least) the new version.
  if (accountOpen() === data.accountId) void accountRefresh(data.accountId, data.sequence);
}

const accountOpen = () => accountRoute.exec(location.hash)?.[1]?.toLowerCase() ?? null;

let refreshTo = null;
let refreshing = false;
/** Reloads the open account at least at `version`; a burst of events coalesces into one reload at a time. */
async function accountRefresh(accountId, version) {
  refreshTo = { accountId, version: Math.max(version, refreshTo?.accountId === accountId ? refreshTo.version : 0) };
  if (refreshing) return;
  refreshing = true;
  try {
    while (refreshTo !== null) {
      const target = refreshTo;
      refreshTo = null;
      await account.refresh(target.accountId, target.version);
    }
  } finally {
    refreshing = false;
  }
}

function route() {
  notice('');
  const accountId = accountOpen();
  $('accounts-view').hidden = accountId !== null;
  $('account-view').hidden = accountId === null;
  if (accountId !== null) void account.show(accountId);
  else void accounts.load();
}

function askForKey(message) {
  health.stop();
  feed.stop();
  $('app').hidden = true;
  $('sign-out').hidden = true;
  $('signin').hidden = false;
  $('signin-error').hidden = message === '';
  $('signin-error').textContent = message;
  $('api-key').value = '';
  $('api-key').focus();
}

function refusedMessage(error) {
  return error.status === 403
    ? `This API key may not read the ledger (403 ${error.code}): use a key with the read scope.`
    : `The API key was not accepted (401 ${error.code}): it is unknown, revoked or mistyped.`;
}

onRefused((error) => {
  forgetKey();
  askForKey(refusedMessage(error));
});

async function enter() {
  // One cheap read proves the key and its scope before the page shows anything.
  await getJson('/api/v1/accounts?limit=1');
  $('signin').hidden = true;
  $('app').hidden = false;
  $('sign-out').hidden = false;
  health.start();
  feed.start();
  route();
}

$('signin-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const key = $('api-key').value.trim();
  if (key === '') return;
  storeKey(key);
  $('api-key').value = '';
  enter().catch((error) => {
    if (!(error instanceof AuthError)) askForKey(`The query service did not answer: ${error.message}`);
  });
});

$('sign-out').addEventListener('click', () => {
  forgetKey();
  askForKey('');
});

window.addEventListener('hashchange', () => {
  if (storedKey() !== null && !$('app').hidden) route();
});

if (storedKey() === null) askForKey('');
else enter().catch((error) => {
  if (!(error instanceof AuthError)) askForKey(`The query service did not answer: ${error.message}`);
});
