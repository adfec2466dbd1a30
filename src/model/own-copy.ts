/**
 * A copy of a string that does not keep its source alive. V8 represents a
 * substring of 13+ characters as a slice pointing into the original string, so a
 * series key or label value cut from a scraped page would pin the whole page (one
 * per scrape that added a series) for as long as the series lives. Concatenating
 * forces a fresh flat string; slicing that keeps only the copy alive.
 */
export function ownCopy(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}
