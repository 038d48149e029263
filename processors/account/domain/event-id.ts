/** An event's id, and its key on the compacted events topic (DESIGN §2): unique per event. */
export function eventIdOf(accountId: string, sequence: number): string {
  return `${accountId}:${sequence}`;
}
