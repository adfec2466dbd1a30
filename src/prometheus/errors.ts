/** A malformed exposition body. `line` is 1-based and is also part of the message. */
export class ParseError extends Error {
  readonly line: number;

  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'ParseError';
    this.line = line;
  }
}

/** Prometheus' per-series label limits, named as in its scrape config. */
export type LabelLimitName = 'label_limit' | 'label_name_length_limit' | 'label_value_length_limit';

/** A series beyond a label limit: the body may be well formed, but the scrape fails all the same. */
export class LabelLimitError extends ParseError {
  constructor(
    line: number,
    readonly limit: LabelLimitName,
    message: string,
  ) {
    super(line, message);
    this.name = 'LabelLimitError';
  }
}
