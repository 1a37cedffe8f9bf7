import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import type { Logger } from "@nls/daemon";

/**
 * The serving certificate, its key and the client CA, read from files (a Secret's volume in a pod) and
 * read again on every `check()`: when the kubelet swaps in a renewed Secret, the server takes the new
 * pair for new connections without a restart. A pair that does not load (half-written, key and
 * certificate that do not match) is logged and the one in use is kept.
 */

export interface TlsPaths {
  certFile: string;
  keyFile: string;
  /** Client certificates are asked for, and those this CA signed are identities. */
  clientCaFile?: string;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

type Read = (path: string) => Buffer;

/** Reads and validates the files; throws an Error naming what is wrong. */
export function readTls(paths: TlsPaths, read: Read = readFileSync): TlsMaterial {
  const material: TlsMaterial = {
    cert: read(paths.certFile),
    key: read(paths.keyFile),
    ...(paths.clientCaFile ? { ca: read(paths.clientCaFile) } : {}),
  };
  // Throws on a bad PEM, or a key that does not belong to the certificate.
  createSecureContext(material);
  return material;
}

const same = (a: TlsMaterial, b: TlsMaterial) =>
  a.cert.equals(b.cert) && a.key.equals(b.key) && (a.ca ?? Buffer.alloc(0)).equals(b.ca ?? Buffer.alloc(0));

export class TlsReloader {
  constructor(
    private readonly paths: TlsPaths,
    private current: TlsMaterial,
    private readonly apply: (material: TlsMaterial) => void,
    private readonly log: Logger,
    private readonly read: Read = readFileSync,
  ) {}

  /** Re-reads the files and applies them when they changed and load. */
  check(): "unchanged" | "reloaded" | "invalid" {
    let next: TlsMaterial;
    try {
      next = readTls(this.paths, this.read);
    } catch (err) {
      this.log.warn({ err, certFile: this.paths.certFile }, "TLS files do not load; keeping the ones in use");
      return "invalid";
    }
    if (same(next, this.current)) return "unchanged";
    this.apply(next);
    this.current = next;
    this.log.info({ certFile: this.paths.certFile, clientCaFile: this.paths.clientCaFile }, "TLS files reloaded");
    return "reloaded";
  }
}
