import test from "ava";
import { containerCommand, containerEnv, expand, podOf, type Pod } from "./container-command.js";

test("container command: $(VAR) expands as the kubelet expands it, unknown ones stay", (t) => {
  t.is(
    expand("--leader-elect-resource-namespace=$(POD_NAMESPACE)", { POD_NAMESPACE: "kube-system" }),
    "--leader-elect-resource-namespace=kube-system",
  );
  t.is(expand("--x=$(NOPE)", {}), "--x=$(NOPE)");
  t.is(expand("--x=$(A)-$(B)", { A: "1", B: "2" }), "--x=1-2");
});

const pod = (env: unknown[]): Pod => ({
  metadata: { name: "nls-extender-0", namespace: "kube-system", uid: "u" },
  spec: { nodeName: "ctl-a", containers: [{ env: env as never }] },
});

test("container command: the downward API fields deploy/ uses, and plain values", (t) => {
  const field = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  t.deepEqual(
    containerEnv(
      pod([
        field("POD_NAMESPACE", "metadata.namespace"),
        field("POD_IP", "status.podIP"),
        field("POD_NAME", "metadata.name"),
        field("NODE_NAME", "spec.nodeName"),
        { name: "PLAIN", value: "x" },
      ]),
      "10.88.0.1",
    ),
    { POD_NAMESPACE: "kube-system", POD_IP: "10.88.0.1", POD_NAME: "nls-extender-0", NODE_NAME: "ctl-a", PLAIN: "x" },
  );
  t.throws(() => containerEnv(pod([field("HOST_IP", "status.hostIP")]), "10.88.0.1"), {
    message: /HOST_IP from status.hostIP/,
  });
});

test("container command: a workload's pod gets its args expanded from plain and downward API env", (t) => {
  const deployment = {
    metadata: { namespace: "kube-system" },
    spec: {
      template: {
        spec: {
          serviceAccountName: "acme-nls-extender",
          containers: [
            {
              args: ["--slices=$(A),$(B)", "--ns=$(POD_NAMESPACE)", "--ip=$(POD_IP)"],
              env: [
                { name: "A", value: "acme-nls-extender" },
                { name: "B", value: "acme-open-local-scheduler-extender" },
                { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
              ],
            },
          ],
        },
      },
    },
  };
  const pod = podOf(deployment, "acme-nls-extender-0", "node-1");
  t.like(pod, { metadata: { name: "acme-nls-extender-0" }, spec: { nodeName: "node-1" } });
  t.is(pod.spec.serviceAccountName, "acme-nls-extender");
  t.deepEqual(containerCommand(pod, "10.88.0.3").args, [
    "--slices=acme-nls-extender,acme-open-local-scheduler-extender",
    "--ns=kube-system",
    "--ip=10.88.0.3",
  ]);
});
