/**
 * A flat copy of a string that does not keep its source alive. V8 represents a
 * substring of 13+ characters as a slice pointing into the original string, so a
 * series key or label value cut from a scraped page would pin the whole page (one
 * per scrape that added a series) for as long as the series lives.
 *
 * The copy is a sequential string, not a slice of a fresh concatenation: a slice
 * costs its own header (32 bytes) besides the copy it points into, which for the
 * 100k cached keys of a large scrape set is ~3 MB of heap, and more of RSS, since
 * V8 sizes the old generation as a multiple of what is live. The JSON round trip is
 * exact for every string, lone surrogates included (JSON.stringify escapes them).
 */
export function ownCopy(s: string): string {
  return s.length < 13 ? s : (JSON.parse(JSON.stringify(s)) as string);
}
