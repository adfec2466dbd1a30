/**
 * A URL written without its scheme (`localhost:8080/metrics`, `10.0.0.5:8000`)
 * is the most common URL mistake; `new URL` either rejects it or, worse, reads
 * `localhost:` as the scheme. Says what to add instead.
 */
import { redactUrlText } from '../telemetry/secrets.js';

export function missingScheme(text: string): string | undefined {
  const value = text.trim();
  if (value === '' || /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return undefined;
  // host:port, host/path, or a bare host name; not `mailto:x` or `unix:/path` (those name a scheme).
  if (!/^([^/@\s]*@)?(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d+)?([/?]|$)/i.test(value)) return undefined;
  // The example never repeats a password or a query value.
  const suggested = redactUrlText(`http://${value}`);
  return `add http:// (or https://) in front, e.g. ${suggested}`;
}
