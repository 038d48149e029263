// API keys for tests (DESIGN §9): one fixed bootstrap admin key every test service is given, and
// the Authorization header that carries it. Integration tests pass it as LEDGER_ADMIN_KEY.
import type { ApiKeyRecord } from '../../schemas/api-key.ts';
import { ApiKeyDirectory } from '../../processors/http/api-keys.ts';
import type { ApiKeyAdmin } from '../../gateway/api-key-routes.ts';

export const testAdminKey = process.env.LEDGER_ADMIN_KEY || 'test-admin-key-for-kafka-ledger-tests-0123456789';

export const bearer = (key: string = testAdminKey): { authorization: string } => ({ authorization: `Bearer ${key}` });

export const adminHeaders = bearer();

/** The directory of a service started in-process: the bootstrap key, plus what the test applies. */
export const testDirectory = (): ApiKeyDirectory => new ApiKeyDirectory(testAdminKey);

/** Records what the admin routes write; `failure` makes the write fail like an unreachable Kafka. */
export class InMemoryKeyAdmin implements ApiKeyAdmin {
  readonly published: ApiKeyRecord[] = [];
  failure: Error | undefined;

  async publish(record: ApiKeyRecord): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.published.push(record);
  }
}
