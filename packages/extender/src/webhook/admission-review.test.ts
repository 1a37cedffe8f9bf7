import test from "ava";
import { HttpError } from "../routes/body.js";
import { admissionResponse, parsePodAdmission } from "./admission-review.js";

const review = (request: unknown, top: Record<string, unknown> = {}) => ({
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  request,
  ...top,
});
const pod = { metadata: { name: "web-0", namespace: "app" }, spec: { containers: [{ name: "c" }] } };
const request = {
  uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
  kind: { group: "", version: "v1", kind: "Pod" },
  namespace: "app",
  operation: "CREATE",
  object: pod,
};

test("parse: a pod's AdmissionReview", (t) => {
  t.deepEqual(parsePodAdmission(review(request)), {
    uid: request.uid,
    namespace: "app",
    operation: "CREATE",
    pod,
  });
});

test("parse: the namespace falls back to the pod's own", (t) => {
  t.is(parsePodAdmission(review({ ...request, namespace: undefined })).namespace, "app");
});

const bad: Array<[string, unknown, RegExp]> = [
  ["not an object", [1, 2], /expected an AdmissionReview object/],
  ["null", null, /expected an AdmissionReview object/],
  ["an older apiVersion", review(request, { apiVersion: "admission.k8s.io/v1beta1" }), /expected apiVersion/],
  ["another kind", review(request, { kind: "Pod" }), /kind AdmissionReview/],
  ["no request", review(undefined), /has no request/],
  ["no uid", review({ ...request, uid: "" }), /request.uid/],
  ["no operation", review({ ...request, operation: 7 }), /request.operation/],
  ["not a pod", review({ ...request, kind: { group: "apps", version: "v1", kind: "Deployment" } }), /core Pod kind/],
  ["no object", review({ ...request, object: "pod" }), /request.object/],
  [
    "no namespace anywhere",
    review({ ...request, namespace: "", object: { metadata: { name: "x" } } }),
    /request.namespace/,
  ],
];
for (const [title, body, message] of bad) {
  test(`parse: ${title} is a 400`, (t) => {
    const err = t.throws(() => parsePodAdmission(body), { instanceOf: HttpError, message });
    t.is(err?.status, 400);
  });
}

test("response: allowed, the patch base64-encoded JSON, or no patch at all", (t) => {
  const patch = [{ op: "add" as const, path: "/spec/containers/0/resources", value: {} }];
  const out = admissionResponse("u1", patch) as { response: Record<string, unknown> };
  t.like(out, { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" });
  t.like(out.response, { uid: "u1", allowed: true, patchType: "JSONPatch" });
  t.deepEqual(JSON.parse(Buffer.from(out.response.patch as string, "base64").toString()), patch);
  t.deepEqual(admissionResponse("u2", []), {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    response: { uid: "u2", allowed: true },
  });
});
