// Ids of Redis stream entries ("<ms>-<n>"): the order of everything a cluster stores, on Redis's one clock.

/** Whether stream id `a` comes after `b` (a missing `b` comes before everything). */
export function isAfter(a: string, b: string | undefined): boolean {
  if (b === undefined) return true;
  const [am, an] = a.split('-').map(Number);
  const [bm, bn] = b.split('-').map(Number);
  return am > bm || (am === bm && an > bn);
}

/** The Redis time of a stream id, in ms. */
export const toStreamMs = (id: string): number => Number(id.slice(0, id.indexOf('-')));
