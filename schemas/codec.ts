// Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro binary) over avsc.
// Encoding is synchronous with the writer schema id looked up once at startup. Decoding resolves
// the record's writer schema (fetched from the registry once per id, then cached) into our
// reader schema, so records written by an older or newer compatible schema still decode.
import avro from 'avsc';
import type { RecordMapping } from './records.ts';
import { ledgerAvroType } from './avro-long.ts';
import { encodeBehindHeader } from './avro-buffer.ts';

type WriterResolver = ReturnType<avro.Type['createResolver']>;

const magicByte = 0;
const headerBytes = 5;

/** A record that can never be decoded: it belongs in a dead-letter topic, not in a retry. */
export class DecodeError extends Error {
  override name = 'DecodeError';
  readonly retriable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Where a codec gets writer schemas by id; the registry adapter implements it. */
export interface SchemaSource {
  /** The schema text for an id, or undefined when the registry does not know the id. */
  schemaById(id: number): Promise<string | undefined>;
}

export class TopicCodec<T> {
  private readonly resolvers = new Map<number, WriterResolver | null>();

  constructor(
    readonly subject: string,
    private readonly readerType: avro.Type,
    readonly writerId: number,
    private readonly mapping: RecordMapping<T>,
    private readonly source: SchemaSource,
  ) {
    // Our own id needs no resolver: reader and writer are the same schema.
    this.resolvers.set(writerId, null);
  }

  encode(value: T): Buffer {
    const out = encodeBehindHeader(this.readerType, this.mapping.toAvro(value), headerBytes);
    out.writeUInt8(magicByte, 0);
    out.writeUInt32BE(this.writerId, 1);
    return out;
  }

  /** The schema id of a wire-format record, or a DecodeError when it is not one. */
  static schemaIdOf(buffer: Buffer | null): number {
    if (buffer === null || buffer.length < headerBytes) throw new DecodeError(`record value of ${buffer?.length ?? 0} bytes is too short for the Confluent wire format`);
    if (buffer.readUInt8(0) !== magicByte) throw new DecodeError(`record value starts with byte ${buffer.readUInt8(0)}, not the Confluent magic byte 0`);
    return buffer.readUInt32BE(1);
  }

  /** Decodes without I/O when the writer schema is already known (the common case). */
  decodeKnown(buffer: Buffer | null): T | undefined {
    const id = TopicCodec.schemaIdOf(buffer);
    const resolver = this.resolvers.get(id);
    if (resolver === undefined) return undefined;
    return this.decodeBody(buffer as Buffer, id, resolver);
  }

  async decode(buffer: Buffer | null): Promise<T> {
    const known = this.decodeKnown(buffer);
    if (known !== undefined) return known;
    const id = TopicCodec.schemaIdOf(buffer);
    await this.learnWriter(id);
    return this.decodeBody(buffer as Buffer, id, this.resolvers.get(id) ?? null);
  }

  private async learnWriter(id: number): Promise<void> {
    const text = await this.source.schemaById(id);
    if (text === undefined) throw new DecodeError(`schema id ${id} is unknown to the schema registry`);
    let resolver: WriterResolver;
    try {
      resolver = this.readerType.createResolver(ledgerAvroType(JSON.parse(text)));
    } catch (cause) {
      throw new DecodeError(`schema id ${id} cannot be read as ${this.subject}: ${(cause as Error).message}`, { cause });
    }
    this.resolvers.set(id, resolver);
  }

  private decodeBody(buffer: Buffer, id: number, resolver: WriterResolver | null): T {
    try {
      const value = resolver === null ? this.readerType.fromBuffer(buffer.subarray(headerBytes)) : this.readerType.fromBuffer(buffer.subarray(headerBytes), resolver);
      return this.mapping.fromAvro(value);
    } catch (cause) {
      throw new DecodeError(`record with schema id ${id} is not valid Avro for ${this.subject}: ${(cause as Error).message}`, { cause });
    }
  }
}
