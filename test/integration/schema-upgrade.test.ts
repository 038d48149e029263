// Upgrading a deployment of the first release, on the real registry: its schemas (kept as they
// landed in test/fixtures/schemas-release-1) are registered first and records are written with
// them; then this release's schemas must be accepted under BACKWARD_TRANSITIVE with no manual
// step, and the old records must decode with the new readers, every new field at its default.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import avro from 'avsc';
import { LedgerRegistry, createCodecs, subjects } from '../../schemas/registry.ts';
import { TopicCodec } from '../../schemas/codec.ts';
import type { RecordMapping } from '../../schemas/records.ts';

const releaseOne = (file: string): string => readFileSync(new URL(`../fixtures/schemas-release-1/${file}`, import.meta.url), 'utf8');

describe('upgrading from the first release', () => {
  it('registers over the first release\'s schemas and reads its records with every new field at its default', async () => {
    const registry = new LedgerRegistry(inject('schemaRegistryUrl'));
    const prefix = `test.schema-upgrade.${randomBytes(4).toString('hex')}.`;
    const s = subjects(prefix);
    const oldWriter = async <T>(subject: string, mapping: RecordMapping<T>) => {
      const text = releaseOne(mapping.schemaFile);
      const id = await registry.register(subject, text);
      return new TopicCodec<T>(subject, avro.Type.forSchema(JSON.parse(text) as avro.Schema), id, mapping, registry);
    };
    const now = 1_764_000_000_000;
    // Records exactly as the first release wrote them (no field of this release).
    const command = (await oldWriter(s.commands.subject, s.commands.mapping)).encode({
      commandId: 'c-1', accountId: 'a-1', issuedAt: now, fingerprint: 'fp', payload: { type: 'OpenAccount', ownerName: 'Ada', currency: 'EUR', initialBalance: 5 },
    } as never);
    const event = (await oldWriter(s.events.subject, s.events.mapping)).encode({
      eventId: 'a-1:1', accountId: 'a-1', sequence: 1, commandId: 'c-1', occurredAt: now, payload: { type: 'AccountOpened', ownerName: 'Ada', currency: 'EUR', initialBalance: 5 },
    } as never);
    const state = (await oldWriter(s.accountState.subject, s.accountState.mapping)).encode({
      accountId: 'a-1', ownerName: 'Ada', currency: 'EUR', balance: 5, status: 'OPEN', version: 1, openedAt: now, updatedAt: now,
    } as never);
    const outcome = (await oldWriter(s.outcomes.subject, s.outcomes.mapping)).encode({
      commandId: 'c-1', accountId: 'a-1', status: 'ACCEPTED', code: null, message: null, fingerprint: 'fp', version: 1, balance: 5, transferId: 't-1', eventSequences: [1], processedAt: now,
    } as never);

    // This release registers its schemas over them (the registry checks BACKWARD_TRANSITIVE)…
    const codecs = await createCodecs(registry, prefix, { register: true });
    const oldIds = await Promise.all(Object.values(s).slice(0, 4).map(({ subject, mapping }) => registry.lookupId(subject, releaseOne(mapping.schemaFile))));
    expect([codecs.commands, codecs.events, codecs.accountState, codecs.outcomes].map((c) => c.writerId).every((id, i) => id !== oldIds[i])).toBe(true);

    // …and its readers decode what the first release wrote.
    expect(await codecs.commands.decode(command)).toEqual({
      commandId: 'c-1', accountId: 'a-1', issuedAt: now, fingerprint: 'fp', payload: { type: 'OpenAccount', ownerName: 'Ada', currency: 'EUR', initialBalance: 5, overdraftLimit: 0 }, actor: null, metadata: {},
    });
    // A record written without metadata decodes with none ({}), as DESIGN §10 says.
    expect(await codecs.events.decode(event)).toEqual({
      eventId: 'a-1:1', accountId: 'a-1', sequence: 1, commandId: 'c-1', occurredAt: now, payload: { type: 'AccountOpened', ownerName: 'Ada', currency: 'EUR', initialBalance: 5, overdraftLimit: 0 }, actor: null, metadata: {},
    });
    expect(await codecs.accountState.decode(state)).toEqual({
      accountId: 'a-1', ownerName: 'Ada', currency: 'EUR', balance: 5, status: 'OPEN', version: 1, openedAt: now, updatedAt: now, outgoingInFlight: 0, heldBalance: 0, overdraftLimit: 0,
    });
    expect(await codecs.outcomes.decode(outcome)).toMatchObject({ transferId: 't-1', transferStatus: null, transferCode: null, availableBalance: null, overdraftLimit: null, holdId: null, holdStatus: null, holdAmount: null, expiresAt: null, capturedAmount: null });
    // Reversals (DESIGN §10): an outcome of the first release is no reversal and no posting record.
    expect(await codecs.outcomes.decode(outcome)).toMatchObject({ reversalId: null, reversedCommandId: null, reversalStatus: null, reversalCode: null, amount: null, postingType: null, counterpartyAccountId: null });
  });
});
