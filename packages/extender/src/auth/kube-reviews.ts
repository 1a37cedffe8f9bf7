import { AuthenticationV1Api, AuthorizationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { ACCESS_GROUP, ACCESS_RESOURCE, type Reviews } from "./access.js";

/** TokenReview and SubjectAccessReview through the API server (RBAC: `system:auth-delegator`). */
export function kubeReviews(kc: KubeConfig, audiences: string[] = []): Reviews {
  const authn = kc.makeApiClient(AuthenticationV1Api);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  return {
    async token(token) {
      const review = await authn.createTokenReview({
        body: { spec: { token, ...(audiences.length ? { audiences } : {}) } },
      });
      const user = review.status?.user;
      if (!review.status?.authenticated || !user?.username) return undefined;
      return { user: user.username, groups: user.groups ?? [], uid: user.uid, extra: user.extra, via: "token" };
    },
    async allowed(identity, verb, namespace) {
      const review = await authz.createSubjectAccessReview({
        body: {
          spec: {
            user: identity.user,
            groups: identity.groups,
            ...(identity.uid ? { uid: identity.uid } : {}),
            ...(identity.extra ? { extra: identity.extra } : {}),
            resourceAttributes: {
              group: ACCESS_GROUP,
              resource: ACCESS_RESOURCE,
              verb,
              ...(namespace ? { namespace } : {}),
            },
          },
        },
      });
      return review.status?.allowed === true;
    },
  };
}
