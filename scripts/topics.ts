// `npm run topics`: creates the ledger's topics when missing and verifies existing ones
// (partition count, cleanup.policy, retention). Exits non-zero naming any mismatch.
import { loadConfig, endpoints, integerFromEnv } from '../topics/config.ts';
import { createKafka } from '../topics/kafka.ts';
import { ensureTopics } from '../topics/admin.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  const { brokers } = endpoints(config);
  const admin = createKafka(brokers, `${config.appId}.topics`).admin();
  await admin.connect();
  try {
    const replicationFactor = integerFromEnv(process.env, 'BANK_REPLICATION_FACTOR', -1, -1, 32);
    const result = await ensureTopics(admin, { prefix: config.topicPrefix, partitions: config.partitions, replicationFactor });
    for (const name of result.created) console.log(`created  ${name} (${config.partitions} partitions)`);
    for (const name of result.verified) console.log(`verified ${name} (${config.partitions} partitions)`);
  } finally {
    await admin.disconnect();
  }
}

main().catch((error: Error) => {
  console.error(`npm run topics failed: ${error.message}`);
  process.exit(1);
});
