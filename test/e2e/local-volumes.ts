/** The StorageClass, PVCs and pods that ask for local volumes, as the e2e suites create them. */

/** A StorageClass of open-local's provisioner for LVM volumes, bound when the pod is scheduled. */
export const localStorageClass = (name: string) => ({
  apiVersion: "storage.k8s.io/v1",
  kind: "StorageClass",
  metadata: { name },
  provisioner: "local.csi.aliyun.com",
  parameters: { volumeType: "LVM" },
  volumeBindingMode: "WaitForFirstConsumer",
});

export const localPvc = (namespace: string, name: string, size: string, storageClassName: string) => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: { name, namespace },
  spec: { accessModes: ["ReadWriteOnce"], storageClassName, resources: { requests: { storage: size } } },
});

export const localPod = (namespace: string, name: string, claims: string[]) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace },
  spec: {
    containers: [{ name: "c", image: "registry.k8s.io/pause:3.10" }],
    volumes: claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })),
  },
});
