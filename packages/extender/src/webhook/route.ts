import type { Request, Response } from "express";
import type { RouteContext } from "../routes/context.js";
import { admissionResponse, parsePodAdmission } from "./admission-review.js";
import { localStorageVerdict } from "./local-storage.js";
import { markPatch, type PodContainersAtAdmission } from "./mark-patch.js";

/**
 * The mutating admission webhook: a pod created with local storage gets the extended resource that
 * makes kube-scheduler call the extender for it. Always allows the pod; a body that is not a pod's
 * AdmissionReview is a 400 (the API server then applies the webhook's failure policy).
 */
export function admissionRoute(ctx: RouteContext) {
  return (req: Request, res: Response): void => {
    const review = parsePodAdmission(req.body);
    if (review.operation !== "CREATE") {
      res.json(admissionResponse(review.uid, []));
      return;
    }
    const verdict = localStorageVerdict(review.pod, review.namespace, ctx.store);
    const patch = verdict.mark ? markPatch(review.pod as PodContainersAtAdmission) : [];
    ctx.metrics.admittedPods.inc({ marked: String(verdict.mark) });
    const name = (review.pod.metadata as { name?: string; generateName?: string } | undefined) ?? {};
    ctx.log.debug(
      {
        namespace: review.namespace,
        pod: name.name || `${name.generateName ?? ""}*`,
        marked: verdict.mark,
        patched: patch.length > 0,
        reasons: verdict.reasons,
      },
      "pod admitted",
    );
    res.json(admissionResponse(review.uid, patch));
  };
}
