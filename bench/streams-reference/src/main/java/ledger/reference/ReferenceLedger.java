package ledger.reference;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.processor.StreamPartitioner;
import org.apache.kafka.streams.state.Stores;

/**
 * The Kafka Streams reference of issue 13: `npm run bench:processor -- --reference streams` starts
 * it in place of the account processor, on the same pre-loaded topics, and compares its final
 * account states with the ledger's. Configured by the environment, as the processor is:
 * KAFKA_BROKERS, SCHEMA_REGISTRY_URL, BANK_TOPIC_PREFIX, APP_ID (its application.id, so its
 * consumer group), DATA_DIR (its RocksDB state), SCHEMAS_DIR; REFERENCE_THREADS (stream threads,
 * default 1: the processor has one main thread), REFERENCE_COMMIT_INTERVAL_MS (default 1000),
 * BANK_PARTITIONS (the commands topic's, for the routing check), REFERENCE_CONFIG (any other
 * setting, `key=value,...`, e.g. `producer.batch.size=1048576` for tuning runs),
 * ACCOUNT_STATS_INTERVAL_MS (how often it prints its totals, as the processor's progress line).
 */
public final class ReferenceLedger {
  private ReferenceLedger() {}

  /** Kafka transactions committed so far (the stream threads' commit-total), kept past close. */
  private static volatile long lastCommits;

  public static void main(String[] args) throws Exception {
    Map<String, String> env = System.getenv();
    String prefix = env.getOrDefault("BANK_TOPIC_PREFIX", "bank.");
    String appId = required(env, "APP_ID");
    String registryUrl = required(env, "SCHEMA_REGISTRY_URL");
    Path schemas = Path.of(env.getOrDefault("SCHEMAS_DIR", "schemas"));
    int threads = Integer.parseInt(env.getOrDefault("REFERENCE_THREADS", "1"));
    long commitIntervalMs = Long.parseLong(env.getOrDefault("REFERENCE_COMMIT_INTERVAL_MS", "1000"));
    long statsIntervalMs = Long.parseLong(env.getOrDefault("ACCOUNT_STATS_INTERVAL_MS", "10000"));
    int partitions = Integer.parseInt(env.getOrDefault("BANK_PARTITIONS", "8"));

    String command = Files.readString(schemas.resolve("command.avsc"));
    String event = Files.readString(schemas.resolve("account-event.avsc"));
    String state = Files.readString(schemas.resolve("account-state.avsc"));
    String outcome = Files.readString(schemas.resolve("command-outcome.avsc"));
    LedgerProcessor.Codecs codecs = new LedgerProcessor.Codecs(
        new AvroCodec(registryUrl, prefix + "commands-value", command),
        new AvroCodec(registryUrl, prefix + "events-value", event),
        new AvroCodec(registryUrl, prefix + "account-state-value", state),
        new AvroCodec(registryUrl, prefix + "outcomes-value", outcome),
        new AvroCodec(registryUrl, prefix + "movements-value", outcome));
    LedgerProcessor.Counters counters = new LedgerProcessor.Counters();
    String commandsTopic = prefix + "commands";

    Topology topology = new Topology();
    topology.addSource("commands", Serdes.String().deserializer(), Serdes.ByteArray().deserializer(), commandsTopic);
    topology.addProcessor("ledger", () -> new LedgerProcessor(codecs, counters, appId, commandsTopic, partitions), "commands");
    for (String store : new String[] {"accounts", "outcomes", "postings", "transfers"}) {
      // Cached and logged, as a tuned application's stores are: the changelog is the store's recovery.
      topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(store), Serdes.String(), Serdes.ByteArray()).withCachingEnabled(), "ledger");
    }
    // An account's events go to its own partition (the accountId before `:<sequence>`), as the ledger writes them.
    StreamPartitioner<String, byte[]> byAccount = (topic, key, value, count) -> Optional.of(Set.of(LedgerProcessor.partitionOf(key.substring(0, key.lastIndexOf(':')), count)));
    topology.addSink("events", prefix + "events", Serdes.String().serializer(), Serdes.ByteArray().serializer(), byAccount, "ledger");
    // The commands topic again: a transfer's next step goes to its account's partition (murmur2, as the ledger's producers).
    topology.addSink("followups", commandsTopic, Serdes.String().serializer(), Serdes.ByteArray().serializer(), "ledger");
    topology.addSink("dlq", prefix + "commands.dlq", Serdes.String().serializer(), Serdes.ByteArray().serializer(), "ledger");

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, env.getOrDefault("KAFKA_BROKERS", "127.0.0.1:9092"));
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitIntervalMs);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
    props.put(StreamsConfig.STATE_DIR_CONFIG, required(env, "DATA_DIR"));
    // Tuned: the producer's default 16 KiB batches made the broker work twice as hard per command
    // (24-28 against 10-12 us of its CPU) and the reference 30 % slower; 1 MiB batches, as the
    // ledger's own produce requests carry a chunk's records for a partition in one batch.
    props.put(StreamsConfig.producerPrefix("batch.size"), 1024 * 1024);
    // REFERENCE_CONFIG="key=value,key=value": any other Streams, producer or consumer setting, for tuning runs.
    for (String setting : env.getOrDefault("REFERENCE_CONFIG", "").split(",")) {
      int equals = setting.indexOf('=');
      if (equals > 0) props.put(setting.substring(0, equals).trim(), setting.substring(equals + 1).trim());
    }

    KafkaStreams streams = new KafkaStreams(topology, props);
    CountDownLatch stopped = new CountDownLatch(1);
    streams.setUncaughtExceptionHandler((error) -> {
      System.err.println("reference stopped on an error: " + error);
      error.printStackTrace();
      Runtime.getRuntime().halt(1);
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    ScheduledExecutorService stats = Executors.newSingleThreadScheduledExecutor((r) -> {
      Thread t = new Thread(r, "stats");
      t.setDaemon(true);
      return t;
    });
    stats.scheduleAtFixedRate(() -> System.out.println(progress("progress", streams, counters)), statsIntervalMs, statsIntervalMs, TimeUnit.MILLISECONDS);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close(Duration.ofSeconds(30));
      System.out.println(progress("stopped", streams, counters));
      stopped.countDown();
    }));
    streams.start();
    stopped.await();
  }

  /** The processor's progress line's fields (bench-processor.ts reads them): totals, Kafka transactions, memory. */
  private static String progress(String msg, KafkaStreams streams, LedgerProcessor.Counters counters) {
    double commits = 0;
    // A closed client has no thread metrics left: its last count stands.
    for (Map.Entry<MetricName, ? extends Metric> entry : streams.metrics().entrySet()) {
      MetricName name = entry.getKey();
      if (name.name().equals("commit-total") && name.group().equals("stream-thread-metrics")) commits += ((Number) entry.getValue().metricValue()).doubleValue();
    }
    lastCommits = Math.max(lastCommits, (long) commits);
    Runtime runtime = Runtime.getRuntime();
    long heapUsedMb = (runtime.totalMemory() - runtime.freeMemory()) / (1024 * 1024);
    return String.format(
        "{\"msg\":\"%s\",\"commands\":%d,\"accepted\":%d,\"rejected\":%d,\"deadLettered\":%d,\"replayed\":%d,\"transactions\":%d,\"memoryMb\":{\"heapUsed\":%d,\"external\":0}}",
        msg, counters.commands.sum(), counters.accepted.sum(), counters.rejected.sum(), counters.deadLettered.sum(), counters.replayed.sum(), lastCommits, heapUsedMb);
  }

  private static String required(Map<String, String> env, String name) {
    String value = env.get(name);
    if (value == null || value.isEmpty()) throw new IllegalArgumentException(name + " must be set");
    return value;
  }
}
