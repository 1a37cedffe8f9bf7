import test from "ava";
import { containerEnv, expand, type Pod } from "./kubelet-stand-in.js";

test("kubelet stand-in: $(VAR) expands as the kubelet expands it, unknown ones stay", (t) => {
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

test("kubelet stand-in: the downward API fields deploy/ uses, and plain values", (t) => {
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
