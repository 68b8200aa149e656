// Polls: the teacher asks the class a question with 2–6 answers (single choice, optionally anonymous). A poll is
// a group message (history, catch-up, the transcript); each person votes once and may change the vote until the
// teacher closes it. The teacher sees live counts, and who chose what unless anonymous; once closed everyone
// sees the counts. Votes are stored through the store (polls.json, or a Redis hash), so they outlive a restart.
import { POLL_OPTIONS, toContent, isContentError, type PollView, type TextMsg } from './contract.ts';
import type { ClusterEvent } from './cluster.ts';
import type { Conversations, Entry } from './conversations.ts';
import type { People } from './people.ts';
import type { RoomContext } from './room-context.ts';
import type { PollChange, StoredPolls } from './store.ts';

const PUSH_MS = 250; // the teacher's live counts: at most this often per poll

interface PollState { votes: Map<string, number>; closed: boolean }

/** What polls need of their room (room.ts). */
export interface PollsRoom {
  readonly id: string;
  readonly people: People;
  readonly convs: Conversations;
  say(line: string): void;
  teacherTabs(): string[];
}

/** A poll's answers from an untrusted payload: 2–6 single lines of 1–100 code points, or null. */
export function toPollOptions(raw: unknown): string[] | null {
  if (!Array.isArray(raw) || raw.length < POLL_OPTIONS.min || raw.length > POLL_OPTIONS.max) return null;
  const options = raw.map((o) => toContent(o, POLL_OPTIONS.length));
  if (options.some((o) => isContentError(o) || /[\p{Cc}\p{Zl}\p{Zp}]/u.test(o))) return null;
  return options;
}

export class Polls {
  private readonly states = new Map<string, PollState>();
  private batch: { change: PollChange; done: (error?: 'server_error') => void }[] = [];
  private readonly pushes = new Map<string, NodeJS.Timeout>(); // poll id -> the teacher's next count

  constructor(private readonly room: PollsRoom, private readonly ctx: RoomContext) {}

  /** The poll message `id` of the group, if there is one. */
  pollOf(id: unknown): Entry | undefined {
    const entry = typeof id === 'string' ? this.room.convs.get(id) : undefined;
    return entry?.msg.poll && !entry.toS && entry.committed ? entry : undefined;
  }

  /** A vote or a closing, stored (one write per batch, as messages) before it counts and before its answer. */
  save(change: PollChange, done: (error?: 'server_error') => void) {
    if (this.batch.push({ change, done }) > 1) return;
    process.nextTick(() => {
      const batch = this.batch;
      this.batch = [];
      this.ctx.store.savePolls(this.room.id, batch.map((b) => b.change)).then(() => {
        for (const { change: c, done: answer } of batch) {
          this.apply(c);
          answer();
        }
      }, (err: Error) => {
        this.room.say(`could not store votes: ${err.message}`);
        for (const { done: answer } of batch) answer('server_error');
      });
    });
  }

  /** In a cluster: a vote or a closing that a node stored, in the stream's order. */
  applyEvent(event: Extract<ClusterEvent, { t: 'vote' | 'pollClosed' }>) {
    if (event.t === 'pollClosed') return this.apply({ poll: event.p, closed: true });
    this.apply({ poll: event.p, session: event.s, option: event.o });
    this.pushCounts(event.p);
  }

  /** The teacher's live counts (and who chose what unless anonymous), coalesced per poll. In a cluster every node
   * tells its own teacher tabs, from the votes in the event stream. */
  pushCounts(pollId: string) {
    if (this.pushes.has(pollId)) return;
    this.pushes.set(pollId, setTimeout(() => {
      this.pushes.delete(pollId);
      const entry = this.pollOf(pollId);
      const tabs = this.room.teacherTabs();
      if (!entry || !tabs.length) return;
      const poll = entry.msg.poll!;
      const frame: { id: string; counts: number[]; voters?: { name: string; option: number }[] } = {
        id: pollId, counts: this.counts(pollId, poll.options.length),
      };
      if (!poll.anonymous) frame.voters = this.voters(pollId, this.room.people);
      (this.ctx.cluster ? this.ctx.io.local : this.ctx.io).to(tabs).emit('pollVotes', frame);
    }, PUSH_MS).unref());
  }

  close() {
    this.pushes.forEach(clearTimeout);
  }

  private state(id: string): PollState {
    let state = this.states.get(id);
    if (!state) this.states.set(id, (state = { votes: new Map(), closed: false }));
    return state;
  }

  load(stored: StoredPolls) {
    for (const [id, poll] of Object.entries(stored)) {
      const state = this.state(id);
      for (const [session, option] of Object.entries(poll.votes)) state.votes.set(session, option);
      state.closed ||= poll.closed === true;
    }
  }

  apply(change: PollChange) {
    const state = this.state(change.poll);
    if ('closed' in change) state.closed = true;
    else if (!state.closed) state.votes.set(change.session, change.option); // a vote stored just after the close does not count
  }

  isClosed(id: string) { return this.states.get(id)?.closed === true; }

  counts(id: string, options: number): number[] {
    const counts = new Array<number>(options).fill(0);
    for (const option of this.states.get(id)?.votes.values() ?? []) if (option >= 0 && option < options) counts[option]++;
    return counts;
  }

  /** Who chose what, by name (an anonymous poll: nobody). */
  voters(id: string, people: People): { name: string; option: number }[] {
    return [...this.states.get(id)?.votes ?? []].flatMap(([session, option]) => {
      const person = people.get(session);
      return person ? [{ name: person.name, option }] : [];
    });
  }

  /** A poll message as this person sees it: their vote; the counts once closed, or always for the teacher (with who
   * chose what, unless anonymous). */
  viewFor(msg: TextMsg, session: { id: string; isTeacher: boolean }, people: People): TextMsg {
    const poll = msg.poll!;
    const state = this.states.get(msg.id);
    const view: PollView = { ...poll };
    if (state?.closed) view.closed = true;
    if (state?.closed || session.isTeacher) view.counts = this.counts(msg.id, poll.options.length);
    const mine = state?.votes.get(session.id);
    if (mine !== undefined) view.mine = mine;
    if (session.isTeacher && !poll.anonymous) view.voters = this.voters(msg.id, people);
    return { ...msg, poll: view };
  }
}
