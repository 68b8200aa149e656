// Replies: a message may quote an earlier one of the same conversation. The quote is taken from the server's
// copy (never from the page), kept with the reply, and becomes "gone" when its original is taken back.
import { QUOTE_MAX, isPlainObject, type Quote } from './contract.ts';
import type { Conversations, Entry } from './conversations.ts';

/** The start of the original on one line: what the reply shows of it. */
export function toQuote(original: Entry): Quote {
  const { id, name, image, file, voice } = original.msg;
  const content = file ? `📄 ${file.name}` : voice ? '🎤' : original.msg.content; // what a file or a voice message says of itself
  const line = [...content.replace(/\s+/gu, ' ')];
  const quote: Quote = { id, name, content: line.length > QUOTE_MAX ? `${line.slice(0, QUOTE_MAX - 1).join('')}…` : line.join('') };
  if (image) quote.image = true;
  return quote;
}

/** The quote for a reply from `from` (to `toS` if private), or why not: the original must be a kept, stored
 * message of the same conversation (one cannot quote what one cannot see). */
export function toReply(convs: Conversations, raw: unknown, from: string, toS?: string): Quote | undefined | 'invalid_message' | 'not_found' {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !raw || raw.length > 64) return 'invalid_message';
  const original = convs.get(raw);
  if (!original?.committed) return 'not_found';
  const isSameConversation = toS === undefined
    ? original.toS === undefined
    : (original.from === from && original.toS === toS) || (original.from === toS && original.toS === from);
  return isSameConversation ? toQuote(original) : 'not_found';
}

/** A stored quote, checked (a line of the log is not trusted either). */
export function toStoredQuote(value: unknown): Quote | undefined {
  if (!isPlainObject(value) || typeof value.id !== 'string') return undefined;
  if (value.gone === true) return { id: value.id, gone: true };
  if (typeof value.name !== 'string' || typeof value.content !== 'string') return undefined;
  const quote: Quote = { id: value.id, name: value.name, content: value.content };
  if (value.image === true) quote.image = true;
  return quote;
}
