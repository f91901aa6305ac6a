package io.iamlet.control.credentials;

import io.iamlet.control.policy.RoleArn;

/**
 * Per-role events of the credential cache, for metrics labelled by role (kube2iam's kube2iam_iam_* series).
 * Called on request and STS threads: implementations must be quick and thread-safe.
 */
public interface CacheListener {
    /** A request answered from memory. */
    void hit(RoleArn role);

    /** One AssumeRole call ended: {@code code} is "Success" or STS's error code (kube2iam's label values). */
    void stsCall(RoleArn role, String code, double seconds);

    CacheListener NONE = new CacheListener() {
        public void hit(RoleArn role) {
        }

        public void stsCall(RoleArn role, String code, double seconds) {
        }
    };
}
