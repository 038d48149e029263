// The test stack as containers, for machines with a Docker engine: Apache Kafka 3.9 (KRaft) and
// Apicurio Registry with KafkaSQL storage on one network, the same pair docker-compose.yml runs.
import { existsSync } from 'node:fs';
import { freePort } from '../../scripts/services.ts';

export const kafkaImage = 'apache/kafka:3.9.2';
export const registryImage = 'apicurio/apicurio-registry:3.3.3';
const containerStartupTimeoutMs = 180_000;

export async function dockerReachable(): Promise<boolean> {
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/** A free host port, so the broker can advertise the very port the host reaches it on. */
export async function startContainers(log: (line: string) => void) {
  const { GenericContainer, Network, Wait } = await import('testcontainers');
  const network = await new Network().start();
  const kafkaPort = await freePort();
  log(`starting ${kafkaImage} on host port ${kafkaPort}`);
  const kafka = await new GenericContainer(kafkaImage)
    .withNetwork(network)
    .withNetworkAliases('kafka')
    .withExposedPorts({ container: kafkaPort, host: kafkaPort })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: `EXTERNAL://0.0.0.0:${kafkaPort},INTERNAL://0.0.0.0:19092,CONTROLLER://0.0.0.0:9093`,
      KAFKA_ADVERTISED_LISTENERS: `EXTERNAL://127.0.0.1:${kafkaPort},INTERNAL://kafka:19092`,
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'EXTERNAL:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
      KAFKA_INTER_BROKER_LISTENER_NAME: 'INTERNAL',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .withStartupTimeout(containerStartupTimeoutMs)
    .start();
  log(`starting ${registryImage}`);
  const registry = await new GenericContainer(registryImage)
    .withNetwork(network)
    .withExposedPorts(8080)
    .withEnvironment({
      APICURIO_STORAGE_KIND: 'kafkasql',
      APICURIO_KAFKASQL_BOOTSTRAP_SERVERS: 'kafka:19092',
      APICURIO_CCOMPAT_LEGACY_ID_MODE_ENABLED: 'false',
    })
    .withWaitStrategy(Wait.forHttp('/apis/ccompat/v7/subjects', 8080).forStatusCode(200))
    .withStartupTimeout(containerStartupTimeoutMs)
    .start();
  return {
    brokers: `127.0.0.1:${kafkaPort}`,
    registryUrl: `http://${registry.getHost()}:${registry.getMappedPort(8080)}/apis/ccompat/v7`,
    stop: async () => {
      await registry.stop();
      await kafka.stop();
      await network.stop();
    },
  };
}
