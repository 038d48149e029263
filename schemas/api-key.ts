// The ApiKey record of <prefix>api-keys (api-key.avsc) and its Avro mapping. Kept apart from the
// ledger's money records (types.ts): it is the HTTP edge's, and no processor reads it.
import type { RecordMapping } from './records.ts';

export interface ApiKeyRecord {
  keyId: string;
  name: string;
  scopes: string[];
  /** Hex SHA-256 of the whole key `lk_<keyId>_<secret>`; the key itself is never stored. */
  secretHash: string;
  createdAt: number;
  revokedAt: number | null;
}

export const apiKeyMapping: RecordMapping<ApiKeyRecord> = {
  schemaFile: 'api-key.avsc',
  toAvro: (k) => k,
  fromAvro: (a) => ({ ...(a as ApiKeyRecord), scopes: [...(a as ApiKeyRecord).scopes] }),
};
