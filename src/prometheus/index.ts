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
  DEFAULT_ESCAPING,
  ESCAPING_SCHEMES,
  OPENMETRICS_CONTENT_TYPE,
  TEXT_CONTENT_TYPE,
  contentType,
  escapeHelp,
  escapeLabelName,
  escapeLabelValue,
  escapeMetricName,
  formatValue,
  isFloatText,
  toEscapingScheme,
  writeFamilies,
  writeLabelName,
  writeLabelPair,
  writeLabels,
  writeMetricName,
  writeSeriesName,
  type EscapingScheme,
  type WriteOptions,
} from './writer.js';
