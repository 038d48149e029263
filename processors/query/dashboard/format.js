// Formatting and DOM building for the dashboard. Data from the API only ever reaches the page as
// text (textContent, attribute values), never as HTML, so nothing in it can run as markup.

const digitsCache = new Map();

/** The currency's minor-unit digits (ISO 4217 as the browser knows it; 2 for an unknown code). */
function minorDigits(currency) {
  if (!digitsCache.has(currency)) {
    let digits = 2;
    try {
      digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
    } catch {
      digits = 2;
    }
    digitsCache.set(currency, digits);
  }
  return digitsCache.get(currency);
}

/** Minor units as a major amount (a number: the chart's values). */
export const major = (minor, currency) => minor / 10 ** minorDigits(currency);

/** Minor units as money text, e.g. 12345 EUR → "€123.45". */
export function money(minor, currency) {
  if (minor === null || minor === undefined) return '—';
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(major(minor, currency));
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency}`;
  }
}

// 2026-11-30 06:40:50 in the browser's time zone: compact, unambiguous, sorts as text.
const dateTime = new Intl.DateTimeFormat('sv-SE', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
const timeOnly = new Intl.DateTimeFormat('sv-SE', { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
export const when = (iso) => (iso ? dateTime.format(new Date(iso)) : '—');
export const clock = (iso) => (iso ? timeOnly.format(new Date(iso)) : '');
export const shortId = (id) => (typeof id === 'string' && id.length > 13 ? `${id.slice(0, 8)}…${id.slice(-4)}` : String(id ?? ''));
export const count = (n) => (n === null || n === undefined ? '—' : new Intl.NumberFormat().format(n));

/** Accounts whose currency the page remembers (the feed's events carry none): bounded, oldest forgotten first. */
export const currenciesRememberedMax = 5000;
const currencies = new Map();
export function rememberCurrency(accountId, currency) {
  currencies.delete(accountId);
  currencies.set(accountId, currency);
  if (currencies.size > currenciesRememberedMax) currencies.delete(currencies.keys().next().value);
}
export const currencyOf = (accountId) => currencies.get(accountId) ?? null;

/** What an event type does to the balance: +1 credit, -1 debit, 0 none (unknown types: 0). */
const effect = {
  AccountOpened: 1, MoneyDeposited: 1, TransferCredited: 1, TransferRefunded: 1, TransferReversalCredited: 1,
  MoneyWithdrawn: -1, TransferDebited: -1, HoldCaptured: -1, TransferReversed: -1,
};
export const balanceEffect = (type) => effect[type] ?? 0;

/** Splits "MoneyDeposited" into "Money deposited". */
export const typeLabel = (type) => String(type).replace(/([a-z])([A-Z])/g, '$1 $2').replace(/ ([A-Z])/g, (_m, c) => ` ${c.toLowerCase()}`);

/**
 * An element with text content and attributes; children are elements or strings (as text nodes).
 * `props.text` is set with textContent; `props.class`, `props.title` and `data-*` as attributes.
 */
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (name === 'text') node.textContent = String(value);
    else node.setAttribute(name === 'className' ? 'class' : name, String(value));
  }
  for (const child of children) node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  return node;
}

export const badge = (value) => el('span', { class: `badge badge-${String(value).replace(/[^A-Za-z-]/g, '')}`, text: String(value).toLowerCase() });

export function tile(label, value, extraClass = '', title = undefined) {
  return el('div', { class: `tile ${extraClass}`, title }, [el('div', { class: 'tile-label', text: label }), el('div', { class: 'tile-value', text: value })]);
}

/** Replaces a table body's rows. */
export function fillRows(tbody, rows) {
  tbody.replaceChildren(...rows);
}
