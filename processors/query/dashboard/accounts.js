// The accounts list: GET /api/v1/accounts with the owner-name prefix and status filters, a page
// at a time. Cursors are opaque: "Previous" goes back through the cursors already followed.
import { getJson, query } from './api.js';
import { badge, el, fillRows, money, rememberCurrency, shortId } from './format.js';

export const accountsPageSize = 20;

const $ = (id) => document.getElementById(id);

export class AccountsView {
  /** `open(accountId)` shows an account; `fail(error)` reports a failed load. */
  constructor({ open, fail }) {
    this.open = open;
    this.fail = fail;
    this.filters = { ownerName: '', status: '' };
    /** Cursors of the pages before the current one (the first page's is null). */
    this.cursors = [null];
    this.next = null;
    $('search-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.filters = { ownerName: $('search-name').value.trim(), status: $('search-status').value };
      this.cursors = [null];
      void this.load();
    });
    $('accounts-next').addEventListener('click', () => {
      if (this.next === null) return;
      this.cursors.push(this.next);
      void this.load();
    });
    $('accounts-prev').addEventListener('click', () => {
      if (this.cursors.length <= 1) return;
      this.cursors.pop();
      void this.load();
    });
  }

  async load() {
    const cursor = this.cursors[this.cursors.length - 1];
    const { ownerName, status } = this.filters;
    try {
      const page = await getJson(`/api/v1/accounts${query({ limit: accountsPageSize, ownerName, status, cursor })}`);
      this.render(page);
    } catch (error) {
      this.fail(error);
    }
  }

  render(page) {
    this.next = page.nextCursor;
    const rows = page.items.map((a) => {
      rememberCurrency(a.accountId, a.currency);
      const row = el('tr', { class: 'link', tabindex: '0', 'data-account-id': a.accountId }, [
        el('td', { text: a.ownerName }),
        el('td', { class: 'mono wide-only', text: shortId(a.accountId), title: a.accountId }),
        el('td', {}, [badge(a.status)]),
        el('td', { class: 'num', text: money(a.balance, a.currency) }),
        el('td', { class: 'num wide-only', text: money(a.availableBalance ?? a.balance, a.currency) }),
      ]);
      row.addEventListener('click', () => this.open(a.accountId));
      row.addEventListener('keydown', (event) => {
        if (event.key === 'Enter') this.open(a.accountId);
      });
      return row;
    });
    fillRows($('accounts-table').tBodies[0], rows);
    $('accounts-empty').hidden = rows.length > 0;
    $('accounts-prev').disabled = this.cursors.length <= 1;
    $('accounts-next').disabled = this.next === null;
    $('accounts-page').textContent = `Page ${this.cursors.length}`;
  }
}
