// Raised hands: a student asks for the floor, the teacher sees a queue (oldest first) and lowers one or all.
// A hand belongs to the session, so it outlives a reconnect of the same person, and drops when they leave.
export class Hands {
  private readonly raised = new Map<string, number>(); // session id -> when raised (ms)

  has(session: string) { return this.raised.has(session); }

  /** False if it was up already (it keeps its place in the queue). */
  raise(session: string, at: number): boolean {
    if (this.raised.has(session)) return false;
    this.raised.set(session, at);
    return true;
  }

  /** False if it was down already. */
  lower(session: string): boolean {
    return this.raised.delete(session);
  }

  /** The sessions with a hand up, oldest first. */
  queue(): { session: string; at: number }[] {
    return [...this.raised].map(([session, at]) => ({ session, at })).sort((a, b) => a.at - b.at);
  }
}
