// @mentions: the page names the people it mentions (those online it offered after an @), the server checks
// each against the text and the room and keeps them by session, so a mention belongs to a person, not a nickname.
import { MAX_MENTIONS } from './contract.ts';
import type { People, Session } from './people.ts';

export interface Mentions { names: string[]; sessions: string[]; all: boolean }

/** The people a group message mentions, or why it is refused. A name nobody online in the room holds is
 * dropped (they left meanwhile); one not written as `@name` in the text, or @all from a student, is refused. */
export function toMentions(
  people: People, sender: Session, content: string, raw: unknown, rawAll: unknown, isPrivate: boolean,
): Mentions | undefined | 'invalid_message' | 'not_allowed' {
  if (raw === undefined && rawAll === undefined) return undefined;
  if (isPrivate || (rawAll !== undefined && typeof rawAll !== 'boolean')) return 'invalid_message';
  if (raw !== undefined && (!Array.isArray(raw) || raw.length > MAX_MENTIONS)) return 'invalid_message';
  if (rawAll && !sender.isTeacher) return 'not_allowed';
  const found = new Map<string, Session>();
  for (const name of (raw ?? []) as unknown[]) {
    if (typeof name !== 'string' || !name || !content.includes(`@${name}`)) return 'invalid_message';
    const person = people.byName(name);
    if (person && person !== sender) found.set(person.id, person);
  }
  const named = [...found.values()];
  return { names: named.map((p) => p.name), sessions: named.map((p) => p.id), all: rawAll === true };
}
