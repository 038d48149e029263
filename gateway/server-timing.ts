// Where a command request's time went, as a W3C `Server-Timing` response header (issue 13's
// latency breakdown; `npm run bench:http` reads it). Off unless GATEWAY_SERVER_TIMING=true: it
// tells a client how long the ledger's internals took, which only an operator needs to know.
//
// Stages, in ms, from marks taken by three processes (the host clocks of the gateway and the
// processor: on separate machines their skew lands in `queue` and `commit`):
//   produce  the request's command from its arrival to Kafka's acknowledgement (micro-batch included)
//   queue    acknowledged → the processor took up the chunk holding it (ledger-fetched-at header)
//   decide   took up → the outcome was sent in the transaction (decode, store reads, decide; the record's timestamp)
//   commit   sent → the gateway read the outcome: offsets, commit, and the gateway's fetch
//   reply    read → the answer (the rest of the request: a transfer's credit wait, rendering)
//   total    arrival → the answer
// A stage the marks cannot give (an outcome answered from memory, a reply before the acknowledgement) is left out.

export interface OutcomeTiming {
  /** When the processor took up the chunk (epoch ms). */
  fetchedAt: number;
  /** The outcome record's timestamp: when it was sent in the transaction. */
  sentAt: number;
  /** When the gateway read it. */
  readAt: number;
}

export interface RequestMarks {
  arrivedAt: number;
  ackedAt?: number;
  outcome?: OutcomeTiming;
  answeredAt: number;
}

const ms = (from: number | undefined, to: number | undefined): number | undefined =>
  from === undefined || to === undefined ? undefined : Math.max(0, to - from);

export function serverTiming(marks: RequestMarks): string {
  const { arrivedAt, ackedAt, outcome, answeredAt } = marks;
  const stages: Array<[string, number | undefined]> = [
    ['produce', ms(arrivedAt, ackedAt)],
    ['queue', ms(ackedAt, outcome?.fetchedAt)],
    ['decide', ms(outcome?.fetchedAt, outcome?.sentAt)],
    ['commit', ms(outcome?.sentAt, outcome?.readAt)],
    ['reply', ms(outcome?.readAt, answeredAt)],
    ['total', ms(arrivedAt, answeredAt)],
  ];
  return stages.flatMap(([name, dur]) => (dur === undefined ? [] : [`${name};dur=${dur}`])).join(', ');
}

/** `name;dur=1.5, other;dur=2` → {name: 1.5, other: 2}; unknown shapes are skipped. */
export function parseServerTiming(header: string | undefined): Record<string, number> {
  const stages: Record<string, number> = {};
  for (const part of (header ?? '').split(',')) {
    const match = /^\s*([A-Za-z0-9_-]+)\s*;\s*dur=([0-9.]+)\s*$/.exec(part);
    if (match?.[1] !== undefined && match[2] !== undefined) stages[match[1]] = Number(match[2]);
  }
  return stages;
}
