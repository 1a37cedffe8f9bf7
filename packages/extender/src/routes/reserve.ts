import type { Request, Response } from "express";
import { ANNOTATION_NLS_ALLOCATION, formatBytesHuman as human, type ReserveResponse } from "@nls/api";
import { allocationRecord, allocationType, describeAllocation } from "../claims.js";
import type { Allocation } from "../ledger.js";
import { claimKey, pvcSize, volumeRequest } from "../request.js";
import { HttpError } from "./body.js";
import type { RouteContext } from "./context.js";
import { admitReserve } from "./reserve-admission.js";

const VOLUME_TYPES: readonly string[] = ["LVM", "Device", "MountPoint"];

const queryString = (v: unknown, name: string): string | undefined => {
  if (v === undefined || v === "") return undefined;
  if (typeof v !== "string") throw new HttpError(400, `query parameter ${name} must be given once`);
  return v;
};

/**
 * POST /apis/scheduling/{namespace}/persistentvolumeclaims/{name}?nodeName=&volumeType=&vgName=
 *
 * The authoritative allocation, asked by the CSI driver before it creates a volume. The capacity check
 * and the ledger update happen in one synchronous step (no await between them), so two calls can never
 * both get the last bytes. Calling again for the same PVC and node returns the same answer. The
 * decision is persisted as a PVC annotation so a restarted extender rebuilds it. A refusal says which
 * volumes hold the space.
 *
 * open-local's CSI driver reads `vgName` (LVM), `device` (Device) or `disk` (MountPoint: the mount
 * point's path). An error whose text contains `Insufficient` makes it answer ResourceExhausted, and
 * the pod is scheduled again; any other error is retried on the same node. So every refusal for lack
 * of space on this node says `Insufficient`, and only those.
 */
export const reserveRoute =
  (ctx: RouteContext) =>
  async (req: Request, res: Response): Promise<void> => {
    const end = ctx.metrics.requestDuration.startTimer({ verb: "reserve" });
    const namespace = String(req.params.namespace);
    const name = String(req.params.name);
    const nodeName = queryString(req.query.nodeName, "nodeName");
    const volumeType = queryString(req.query.volumeType, "volumeType");
    const vgName = queryString(req.query.vgName, "vgName");
    if (!nodeName) throw new HttpError(400, "query parameter nodeName is required");
    if (volumeType !== undefined && !VOLUME_TYPES.includes(volumeType)) {
      throw new HttpError(
        400,
        `volumeType ${JSON.stringify(volumeType)} is not supported (${VOLUME_TYPES.join(", ")})`,
      );
    }
    const key = claimKey(namespace, name);
    const store = ctx.store;
    const pvc = store.pvc(namespace, name);
    if (!pvc) throw new HttpError(404, `persistentvolumeclaim ${key} not found in the extender's cache`);
    const cls = pvc.spec?.storageClassName ? store.localClass(pvc.spec.storageClassName) : undefined;
    await admitReserve(ctx.pods, pvc, cls, { namespace, name, key, nodeName, volumeType, vgName });

    const answer = (a: Allocation, type: string): void => {
      const body: ReserveResponse = {
        node: a.node,
        vgName: a.vg ?? "",
        device: a.device ?? "",
        disk: a.mountPoint ?? "",
        volumeType: type,
        persistentVolumeClaim: key,
      };
      res.json(body);
    };

    const boundPv = store.boundPv(key);
    const pvAlloc = boundPv ? store.pv(boundPv)!.allocation : undefined;
    if (pvAlloc) {
      answer(pvAlloc, allocationType(pvAlloc));
      end();
      return;
    }
    const size = pvcSize(pvc);
    if (!size.ok) throw new HttpError(400, `pvc ${key}: ${size.error}`);
    const type = volumeType ?? cls?.volumeType ?? "LVM";
    const vg = vgName ?? (type === "LVM" ? cls?.vgName : undefined);
    const request = volumeRequest(
      { name: cls?.name ?? "(none)", volumeType: type, vgName: vg, mediaType: cls?.mediaType },
      key,
      size.bytes,
    );
    if ("invalid" in request) throw new HttpError(400, `pvc ${key}: ${request.invalid}`);

    const granted = store.grant(key, nodeName, request, ctx.now() + ctx.reservationTtlMs);
    if (!granted.ok) {
      ctx.log.warn({ verb: "reserve", pvc: key, node: nodeName, reason: granted.reason }, "insufficient");
      ctx.metrics.reserveRefusals.inc();
      throw new HttpError(
        500,
        `Insufficient ${type} storage on node ${nodeName} for ${human(size.bytes)}: ${granted.reason}`,
      );
    }
    const allocation = granted.allocation;
    if (granted.changed) {
      ctx.log.info({ verb: "reserve", pvc: key, allocation: describeAllocation(allocation) }, "allocated");
    }
    const record = JSON.stringify(allocationRecord(allocation));
    if (pvc.metadata?.annotations?.[ANNOTATION_NLS_ALLOCATION] !== record) {
      try {
        const patched = await ctx.writer.annotate(namespace, name, ANNOTATION_NLS_ALLOCATION, record);
        // The PVC as patched, before the watch echoes it: an older PVC event arriving later is ignored.
        if (patched) store.applyPvc(patched, true);
      } catch (e) {
        // The allocation stays in the ledger; the CSI driver retries and the retry persists it.
        throw new HttpError(
          500,
          `allocated ${describeAllocation(allocation)} but could not persist it on ${key}: ${(e as Error).message}`,
        );
      }
    }
    answer(allocation, type);
    end();
  };
