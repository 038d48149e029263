// A view store with no accounts, for tests of the query service's HTTP edge (access, framework
// answers, bad input, OpenAPI) that need a running app but no data.
import { unavailable, type ViewReader } from '../../../processors/query/stores.ts';

export const emptyViews: ViewReader = {
  account: () => undefined,
  history: async () => [],
  accounts: async () => ({ items: [], lastKey: null }),
  transfer: async () => undefined,
  filteredAccounts: async () => ({ items: [], lastKey: null }),
  reads: () => unavailable,
};
