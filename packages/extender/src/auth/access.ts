import { createHash } from "node:crypto";
import { bearerToken, certificateIdentity, type Identity, type PeerCertificateView } from "./identity.js";
import { ReviewCache } from "./review-cache.js";

/**
 * Who may call the extender's routes. With `--authorization-mode=Webhook` every call of a protected
 * route must come with an identity — a client certificate signed by `--client-ca-file`, or a bearer
 * token the API server vouches for (TokenReview, with `--authentication-token-webhook`) — and that
 * identity must be allowed the route's verb on the extender's own resource by a SubjectAccessReview,
 * i.e. by RBAC: `{apiGroups: [nls.csi.aliyun.com], resources: [extenders], verbs: [schedule|reserve]}`.
 * `AlwaysAllow` checks nothing (the default: then a NetworkPolicy is the only guard).
 */

export const ACCESS_GROUP = "nls.csi.aliyun.com";
export const ACCESS_RESOURCE = "extenders";
/** `schedule`: filter and prioritize (kube-scheduler); `reserve`: the reserve route (a CSI driver). */
export const ACCESS_VERBS = ["schedule", "reserve"] as const;
export type AccessVerb = (typeof ACCESS_VERBS)[number];

export const AUTHORIZATION_MODES = ["AlwaysAllow", "Webhook"] as const;
export type AuthorizationMode = (typeof AUTHORIZATION_MODES)[number];

/** The API server's reviews (client-node behind it in the daemon, a fake in tests). */
export interface Reviews {
  /** The identity a TokenReview gives the token, or undefined when the API server rejects it. */
  token(token: string): Promise<Identity | undefined>;
  /** Whether a SubjectAccessReview allows `verb` on the extender's resource (in `namespace`, if given). */
  allowed(identity: Identity, verb: AccessVerb, namespace: string | undefined): Promise<boolean>;
}

export type AccessVerdict =
  { ok: true; identity?: Identity } | { ok: false; status: 401 | 403 | 503; message: string; user?: string };

export interface AccessOptions {
  mode: AuthorizationMode;
  /** Accept bearer tokens (checked with TokenReview); client certificates are accepted whenever the server asks for them. */
  tokenReview: boolean;
  reviews: Reviews;
  now(): number;
}

/** How long review answers are kept (the kubelet's defaults for the same reviews). */
export const REVIEW_TTL_MS = {
  tokenAccepted: 2 * 60_000,
  tokenRejected: 10_000,
  allowed: 5 * 60_000,
  denied: 30_000,
};

export class Access {
  private readonly tokens = new ReviewCache<Identity | null>((id) =>
    id ? REVIEW_TTL_MS.tokenAccepted : REVIEW_TTL_MS.tokenRejected,
  );
  private readonly decisions = new ReviewCache<boolean>((ok) => (ok ? REVIEW_TTL_MS.allowed : REVIEW_TTL_MS.denied));

  constructor(private readonly options: AccessOptions) {}

  get mode(): AuthorizationMode {
    return this.options.mode;
  }

  /** The verdict for one request: its TLS peer (HTTPS only), its Authorization header, the verb asked. */
  async check(
    peer: PeerCertificateView | undefined,
    authorization: string | undefined,
    verb: AccessVerb,
    namespace?: string,
  ): Promise<AccessVerdict> {
    if (this.options.mode === "AlwaysAllow") return { ok: true };
    const who = await this.authenticate(peer, authorization);
    if (!who.ok) return who;
    const { identity } = who;
    let allowed: boolean;
    try {
      allowed = await this.authorize(identity, verb, namespace);
    } catch (err) {
      return {
        ok: false,
        status: 503,
        message: `cannot review access: ${(err as Error).message}`,
        user: identity.user,
      };
    }
    if (allowed) return { ok: true, identity };
    const where = namespace ? ` in namespace ${namespace}` : "";
    return {
      ok: false,
      status: 403,
      user: identity.user,
      message: `${identity.user} may not ${verb} ${ACCESS_RESOURCE}.${ACCESS_GROUP}${where}`,
    };
  }

  private async authenticate(
    peer: PeerCertificateView | undefined,
    authorization: string | undefined,
  ): Promise<{ ok: true; identity: Identity } | { ok: false; status: 401 | 503; message: string }> {
    const cert = peer ? certificateIdentity(peer) : ({ kind: "none" } as const);
    if (cert.kind === "identity") return { ok: true, identity: cert.identity };
    if (cert.kind === "invalid") return { ok: false, status: 401, message: cert.reason };
    const token = bearerToken(authorization);
    if (token === undefined || !this.options.tokenReview) {
      const accepted = this.options.tokenReview ? "a client certificate or a bearer token" : "a client certificate";
      return { ok: false, status: 401, message: `no credentials: this route needs ${accepted}` };
    }
    const key = createHash("sha256").update(token).digest("hex");
    const now = this.options.now();
    let identity = this.tokens.get(key, now);
    if (identity === undefined) {
      try {
        identity = (await this.options.reviews.token(token)) ?? null;
      } catch (err) {
        return { ok: false, status: 503, message: `cannot review the token: ${(err as Error).message}` };
      }
      this.tokens.set(key, identity, now);
    }
    if (!identity) return { ok: false, status: 401, message: "the bearer token was not accepted by the API server" };
    return { ok: true, identity };
  }

  private async authorize(identity: Identity, verb: AccessVerb, namespace: string | undefined): Promise<boolean> {
    const key = JSON.stringify([identity.user, identity.uid ?? "", [...identity.groups].sort(), verb, namespace ?? ""]);
    const now = this.options.now();
    const known = this.decisions.get(key, now);
    if (known !== undefined) return known;
    const allowed = await this.options.reviews.allowed(identity, verb, namespace);
    this.decisions.set(key, allowed, now);
    return allowed;
  }
}
