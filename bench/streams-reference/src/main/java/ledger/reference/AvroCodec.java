package ledger.reference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;

/**
 * One Avro topic's values in the schema registry's wire format (magic byte 0, the schema id as a
 * big-endian int, then Avro binary), as the ledger's own codecs write and read them
 * (schemas/codec.ts). Written with this project's schema under the topic's subject; read with the
 * writer's schema, fetched from the registry by id once, resolved to ours.
 */
final class AvroCodec {
  /** The registry's answers are small; a slow registry fails the start-up instead of hanging it. */
  private static final Duration registryTimeout = Duration.ofSeconds(10);
  private static final HttpClient http = HttpClient.newBuilder().connectTimeout(registryTimeout).build();
  private static final ObjectMapper json = new ObjectMapper();
  /** Writer schemas by registry id, shared by every codec (ids are global in the registry). */
  private static final Map<Integer, Schema> writers = new ConcurrentHashMap<>();

  final Schema schema;
  final int id;
  private final String registryUrl;
  private final GenericDatumWriter<GenericRecord> writer;
  private final Map<Integer, GenericDatumReader<GenericRecord>> readers = new ConcurrentHashMap<>();
  private final ThreadLocal<BinaryEncoder> encoders = new ThreadLocal<>();
  private final ThreadLocal<BinaryDecoder> decoders = new ThreadLocal<>();

  /** Looks up the id our exact schema has under `subject` (the bench registers it first, as the ledger's own start does). */
  AvroCodec(String registryUrl, String subject, String schemaText) {
    this.registryUrl = registryUrl;
    this.schema = new Schema.Parser().parse(schemaText);
    this.writer = new GenericDatumWriter<>(schema);
    String body = json.createObjectNode().put("schema", schemaText).toString();
    JsonNode answer = request(HttpRequest.newBuilder(URI.create(registryUrl + "/subjects/" + subject)).POST(HttpRequest.BodyPublishers.ofString(body)));
    this.id = answer.get("id").asInt();
    this.readers.put(id, new GenericDatumReader<>(schema, schema));
  }

  byte[] encode(GenericRecord record) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    out.write(0);
    out.write(id >>> 24);
    out.write(id >>> 16);
    out.write(id >>> 8);
    out.write(id);
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, encoders.get());
    encoders.set(encoder);
    try {
      writer.write(record, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  GenericRecord decode(byte[] bytes) {
    if (bytes == null || bytes.length < 5 || bytes[0] != 0) throw new IllegalArgumentException("not in the registry's wire format (magic byte 0 and a schema id)");
    int writerId = ByteBuffer.wrap(bytes, 1, 4).getInt();
    GenericDatumReader<GenericRecord> reader = readers.computeIfAbsent(writerId, (wid) -> new GenericDatumReader<>(writerSchema(wid), schema));
    BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, 5, bytes.length - 5, decoders.get());
    decoders.set(decoder);
    try {
      return reader.read(null, decoder);
    } catch (IOException | AvroRuntimeException e) {
      throw new IllegalArgumentException("undecodable Avro: " + e.getMessage(), e);
    }
  }

  private Schema writerSchema(int writerId) {
    return writers.computeIfAbsent(writerId, (wid) -> {
      JsonNode answer = request(HttpRequest.newBuilder(URI.create(registryUrl + "/schemas/ids/" + wid)).GET());
      return new Schema.Parser().parse(answer.get("schema").asText());
    });
  }

  private static JsonNode request(HttpRequest.Builder builder) {
    HttpRequest request = builder.timeout(registryTimeout).header("Content-Type", "application/vnd.schemaregistry.v1+json").build();
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) throw new IllegalStateException(request.method() + " " + request.uri() + ": " + response.statusCode() + " " + response.body());
      return json.readTree(response.body());
    } catch (IOException e) {
      throw new UncheckedIOException(request.method() + " " + request.uri(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
