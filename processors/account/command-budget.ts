// How many commands an instance holds in flight at once, across all its partitions: a chunk
// waits for room before it is decoded, decided and sent, and gives it back when its transaction
// and store write are done. Without it an instance holds up to partitions × transactionCommandsMax
// commands (with their decoded commands, results and encoded records) at once, so its memory
// grew with the partitions it owned. Waiters are served first come, first served, so a partition
// with small chunks cannot starve one with a large chunk.

export class CommandBudget {
  private used = 0;
  private readonly waiting: Array<{ commands: number; admit: () => void }> = [];

  constructor(readonly limit: number) {}

  /** Waits until `commands` fit (a chunk above the limit waits for an empty budget), then holds them; call the returned function once to give them back. */
  async acquire(commands: number): Promise<() => void> {
    const held = Math.min(Math.max(1, commands), this.limit);
    if (this.waiting.length > 0 || this.used + held > this.limit) {
      await new Promise<void>((admit) => this.waiting.push({ commands: held, admit }));
    } else {
      this.used += held;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= held;
      this.admitWaiting();
    };
  }

  /** Commands held now (metrics, tests). */
  get inFlight(): number {
    return this.used;
  }

  private admitWaiting(): void {
    for (let next = this.waiting[0]; next !== undefined && this.used + next.commands <= this.limit; next = this.waiting[0]) {
      this.waiting.shift();
      this.used += next.commands;
      next.admit();
    }
  }
}
