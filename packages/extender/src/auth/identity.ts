/**
 * Who is calling, from what the connection and the request carry. Pure: the TLS socket's verdict and
 * the headers go in, an identity (or why there is none) comes out.
 */

export interface Identity {
  user: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
  /** How it was established: a client certificate the client CA signed, or a reviewed bearer token. */
  via: "x509" | "token";
}

/** The parts of Node's `TLSSocket` that say whether and how the client proved itself. */
export interface PeerCertificateView {
  /** The client presented a certificate and it chains to the client CA. */
  authorized: boolean;
  authorizationError?: string | Error | null;
  /** The subject of the presented certificate (empty object when none was presented). */
  subject?: { CN?: string | string[]; O?: string | string[] } | null;
}

export type CertificateIdentity =
  { kind: "none" } | { kind: "identity"; identity: Identity } | { kind: "invalid"; reason: string };

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * The identity of a client certificate, the way kube-apiserver reads one: the common name is the user,
 * each organization a group. No certificate presented is `none` (another credential may follow); one
 * that does not chain to the client CA, or names no user, is `invalid`.
 */
export function certificateIdentity(peer: PeerCertificateView): CertificateIdentity {
  const presented = !!peer.subject && Object.keys(peer.subject).length > 0;
  if (!presented) return { kind: "none" };
  if (!peer.authorized) {
    const why = peer.authorizationError ? String(peer.authorizationError) : "not signed by the client CA";
    return { kind: "invalid", reason: `client certificate not accepted: ${why}` };
  }
  const [user] = list(peer.subject!.CN);
  if (!user) return { kind: "invalid", reason: "client certificate has no common name (the user)" };
  return { kind: "identity", identity: { user, groups: list(peer.subject!.O), via: "x509" } };
}

/** The bearer token of an `Authorization` header, or undefined when there is none. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  return m?.[1];
}
