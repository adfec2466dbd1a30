/**
 * Reading what an OTLP/HTTP backend answers: the partial-success part of a 2xx
 * response, and the human-readable message of an error (a `google.rpc.Status`
 * in protobuf or JSON, or plain text from a proxy in front of the backend).
 * A backend may echo the request (its URL with `?api_key=`, its Authorization
 * header): every message is scrubbed of secrets before it goes anywhere.
 */
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { scrubSecrets } from '../../telemetry/secrets.js';

export interface PartialSuccess {
  readonly rejected: number;
  readonly message: string;
}

const MAX_MESSAGE = 512;

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.includes('json');
}

function isProtobuf(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.includes('protobuf');
}

/** The partial success of a 2xx response, or undefined when everything was accepted. */
export function readPartialSuccess(body: Uint8Array, contentType: string | undefined): PartialSuccess | undefined {
  if (body.length === 0) return undefined;
  try {
    const serializer = isJson(contentType) ? JsonMetricsSerializer : ProtobufMetricsSerializer;
    const partial = serializer.deserializeResponse(body).partialSuccess;
    if (!partial) return undefined;
    const rejected = Number(partial.rejectedDataPoints ?? 0);
    const message = partial.errorMessage ?? '';
    return rejected > 0 || message ? { rejected, message: truncate(message) } : undefined;
  } catch {
    return undefined;
  }
}

/** The message of an error response, decoded from `google.rpc.Status` when it is one. */
export function readErrorMessage(body: Uint8Array, contentType: string | undefined): string {
  if (body.length === 0) return '';
  if (isProtobuf(contentType)) {
    const message = statusMessage(body);
    if (message !== undefined) return truncate(message);
  }
  const text = Buffer.from(body).toString('utf8');
  if (isJson(contentType) || text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as { message?: unknown; error?: unknown };
      if (typeof parsed.message === 'string') return truncate(parsed.message);
      if (typeof parsed.error === 'string') return truncate(parsed.error);
    } catch {
      // not JSON after all; fall through to the raw text
    }
  }
  return truncate(text.trim());
}

/** Scrubbed first: a cut could leave part of a secret that no longer matches whole. */
function truncate(s: string): string {
  const clean = scrubSecrets(s);
  return clean.length > MAX_MESSAGE ? clean.slice(0, MAX_MESSAGE) + '…' : clean;
}

/** Field 2 (`message`) of a google.rpc.Status; undefined when the bytes are not one. */
function statusMessage(buf: Uint8Array): string | undefined {
  let pos = 0;
  let message: string | undefined;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= buf.length || shift > 63) throw new RangeError('truncated varint');
      const b = buf[pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
    }
  };
  try {
    while (pos < buf.length) {
      const tag = varint();
      const field = Math.floor(tag / 8);
      switch (tag & 7) {
        case 0:
          varint();
          break;
        case 1:
          pos += 8;
          break;
        case 5:
          pos += 4;
          break;
        case 2: {
          const len = varint();
          if (pos + len > buf.length) return undefined;
          if (field === 2) message = Buffer.from(buf.subarray(pos, pos + len)).toString('utf8');
          pos += len;
          break;
        }
        default:
          return undefined;
      }
    }
  } catch {
    return undefined;
  }
  return pos === buf.length ? message : undefined;
}
