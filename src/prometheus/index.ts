/** The exposition-format parser and writer, shared by the scrape receiver and the /metrics exporter. */
export { ExpositionParser, LabelLimitError, ParseError, type EntryKind, type LabelLimitName, type LabelLimits, type ParserOptions } from './parser.js';
export {
  parseFamilies,
  resolveFamily,
  type Labels,
  type MetricFamily,
  type ResolvedFamily,
  type Sample,
  type SampleRole,
} from './families.js';
export {
  OPENMETRICS_CONTENT_TYPE,
  TEXT_CONTENT_TYPE,
  escapeHelp,
  escapeLabelValue,
  formatValue,
  writeFamilies,
  writeLabels,
  writeSeriesName,
  type WriteOptions,
} from './writer.js';
