/**
 * Where the pull endpoint listens: `host:port`, `[ipv6]:port`, `:port` (every
 * interface), or a Unix socket written `unix:/path` or `unix:///path`.
 */
export type ListenAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

export type ParsedListenAddress = { ok: true; address: ListenAddress } | { ok: false; message: string };

const BRACKETED = /^\[([^\]]+)\]:(\d+)$/;
const HOST_PORT = /^([^:[\]]*):(\d+)$/;

export function parseListenAddress(text: string): ParsedListenAddress {
  const s = text.trim();
  if (s.startsWith('unix:')) {
    // `unix:///run/x.sock` is the URL spelling of `unix:/run/x.sock`.
    const path = s.startsWith('unix://') ? s.slice('unix://'.length) : s.slice('unix:'.length);
    if (!path.startsWith('/')) return { ok: false, message: `unix socket path must be absolute, got "${text}"` };
    return { ok: true, address: { kind: 'unix', path } };
  }
  const m = BRACKETED.exec(s) ?? HOST_PORT.exec(s);
  if (!m) {
    return { ok: false, message: `expected host:port, [ipv6]:port or unix:/path/to.sock, got "${text}"` };
  }
  const port = Number(m[2]);
  if (port > 65535) return { ok: false, message: `port ${port} is out of range in "${text}"` };
  return { ok: true, address: { kind: 'tcp', host: m[1]!, port } };
}

export function formatListenAddress(address: ListenAddress): string {
  if (address.kind === 'unix') return `unix:${address.path}`;
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
