/** Where a daemon listens: a host (`undefined` = all interfaces) and a port. */
export interface ListenAddress {
  host: string | undefined;
  port: number;
}

/** Go-style listen address: `:9101`, `0.0.0.0:9101`, `127.0.0.1:0`, `[::1]:9101`. */
export function parseListenAddress(addr: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(addr.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`invalid listen address "${addr}": expected [host]:port, e.g. ":9101"`);
  const host = m[1] ?? m[2];
  return { host: host === "" ? undefined : host, port };
}
