// `npm run schemas`: registers every .avsc under `<topic>-value` with BACKWARD_TRANSITIVE set on
// each subject. Idempotent: an identical schema keeps its id; an incompatible one is refused.
import { loadConfig, endpoints } from '../topics/config.ts';
import { LedgerRegistry, registerSchemas } from '../schemas/registry.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  const { registryUrl } = endpoints(config);
  const ids = await registerSchemas(new LedgerRegistry(registryUrl), config.topicPrefix);
  for (const [subject, id] of Object.entries(ids)) console.log(`registered ${subject} id=${id} compatibility=BACKWARD_TRANSITIVE`);
}

main().catch((error: Error) => {
  console.error(`npm run schemas failed: ${error.message}`);
  process.exit(1);
});
