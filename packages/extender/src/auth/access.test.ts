import test from "ava";
import { Access, REVIEW_TTL_MS, type AccessVerb, type Reviews } from "./access.js";
import type { Identity, PeerCertificateView } from "./identity.js";

const scheduler: PeerCertificateView = { authorized: true, subject: { CN: "system:kube-scheduler" } };
const stranger: PeerCertificateView = { authorized: false, authorizationError: "SELF_SIGNED", subject: { CN: "x" } };
const noCert: PeerCertificateView = { authorized: false, subject: {} };

/** Reviews that know two tokens and allow what `rbac` says, counting every call. */
function fakeReviews(rbac: Record<string, AccessVerb[]>) {
  const calls = { token: 0, allowed: 0 };
  let failing = false;
  const tokens: Record<string, Identity> = {
    "csi-token": { user: "system:serviceaccount:kube-system:csi", groups: ["system:serviceaccounts"], via: "token" },
    "pod-token": { user: "system:serviceaccount:app:default", groups: ["system:serviceaccounts"], via: "token" },
  };
  const reviews: Reviews = {
    async token(token) {
      calls.token++;
      if (failing) throw new Error("apiserver down");
      return tokens[token];
    },
    async allowed(identity, verb, namespace) {
      calls.allowed++;
      if (failing) throw new Error("apiserver down");
      return (rbac[identity.user] ?? []).includes(verb) && namespace !== "forbidden";
    },
  };
  return { reviews, calls, fail: (v: boolean) => (failing = v) };
}

function setup(tokenReview = true) {
  let now = 0;
  const fake = fakeReviews({
    "system:kube-scheduler": ["schedule"],
    "system:serviceaccount:kube-system:csi": ["reserve"],
  });
  const access = new Access({ mode: "Webhook", tokenReview, reviews: fake.reviews, now: () => now });
  return { access, ...fake, advance: (ms: number) => (now += ms) };
}

test("AlwaysAllow lets everything through without asking", async (t) => {
  const fake = fakeReviews({});
  const access = new Access({ mode: "AlwaysAllow", tokenReview: true, reviews: fake.reviews, now: () => 0 });
  t.deepEqual(await access.check(undefined, undefined, "reserve"), { ok: true });
  t.deepEqual(fake.calls, { token: 0, allowed: 0 });
});

const cases: Array<
  [string, PeerCertificateView | undefined, string | undefined, AccessVerb, string | undefined, object]
> = [
  ["kube-scheduler's certificate may schedule", scheduler, undefined, "schedule", undefined, { ok: true }],
  [
    "kube-scheduler's certificate may not reserve",
    scheduler,
    undefined,
    "reserve",
    "app",
    {
      ok: false,
      status: 403,
      message: "system:kube-scheduler may not reserve extenders.nls.csi.aliyun.com in namespace app",
    },
  ],
  [
    "a certificate from another CA is refused even with a good token",
    stranger,
    "Bearer csi-token",
    "reserve",
    undefined,
    { ok: false, status: 401, message: "client certificate not accepted: SELF_SIGNED" },
  ],
  ["the CSI's token may reserve", noCert, "Bearer csi-token", "reserve", "app", { ok: true }],
  [
    "a pod's token is known but not allowed",
    undefined,
    "Bearer pod-token",
    "reserve",
    "app",
    { ok: false, status: 403, user: "system:serviceaccount:app:default" },
  ],
  [
    "an unknown token",
    undefined,
    "Bearer made-up",
    "schedule",
    undefined,
    { ok: false, status: 401, message: "the bearer token was not accepted by the API server" },
  ],
  [
    "no credentials at all",
    noCert,
    undefined,
    "schedule",
    undefined,
    { ok: false, status: 401, message: "no credentials: this route needs a client certificate or a bearer token" },
  ],
];
for (const [name, peer, authorization, verb, namespace, want] of cases) {
  test(`Webhook: ${name}`, async (t) => {
    const { access } = setup();
    t.like(await access.check(peer, authorization, verb, namespace), want);
  });
}

test("without --authentication-token-webhook a bearer token is no credential", async (t) => {
  const { access, calls } = setup(false);
  t.like(await access.check(noCert, "Bearer csi-token", "reserve"), {
    ok: false,
    status: 401,
    message: "no credentials: this route needs a client certificate",
  });
  t.is(calls.token, 0);
});

test("reviews are cached per token and per identity+verb+namespace, denials for less long", async (t) => {
  const { access, calls, advance } = setup();
  for (let i = 0; i < 3; i++) await access.check(undefined, "Bearer csi-token", "reserve", "app");
  t.deepEqual(calls, { token: 1, allowed: 1 });
  await access.check(undefined, "Bearer csi-token", "reserve", "other");
  t.is(calls.allowed, 2, "another namespace is another question");
  await access.check(undefined, "Bearer pod-token", "reserve", "app");
  t.deepEqual(calls, { token: 2, allowed: 3 });
  advance(REVIEW_TTL_MS.denied);
  await access.check(undefined, "Bearer pod-token", "reserve", "app");
  t.deepEqual(calls, { token: 2, allowed: 4 }, "the denial expired, the token review did not");
  await access.check(undefined, "Bearer csi-token", "reserve", "app");
  t.is(calls.allowed, 4, "the allowance still holds");
  advance(REVIEW_TTL_MS.tokenAccepted);
  await access.check(undefined, "Bearer csi-token", "reserve", "app");
  t.is(calls.token, 3);
});

test("an API server that cannot be asked is a 503, and nothing is cached", async (t) => {
  const { access, calls, fail } = setup();
  fail(true);
  t.like(await access.check(undefined, "Bearer csi-token", "reserve"), {
    ok: false,
    status: 503,
    message: "cannot review the token: apiserver down",
  });
  t.like(await access.check(scheduler, undefined, "schedule"), { ok: false, status: 503 });
  fail(false);
  t.like(await access.check(undefined, "Bearer csi-token", "reserve"), { ok: true });
  t.deepEqual(calls, { token: 2, allowed: 2 });
});
