package io.iamlet.control.identity;

/**
 * Who a verified service-account token says its bearer is: the pod it was issued for and that pod's
 * service account. {@code checkedBy} says how the token was verified, for the log.
 */
public record PodIdentity(String namespace, String serviceAccount, String podName, String podUid, CheckedBy checkedBy) {
    public enum CheckedBy { SIGNATURE, TOKEN_REVIEW }

    public String podKey() {
        return namespace + "/" + podName;
    }

    @Override
    public String toString() {
        return "pod " + podKey() + " (uid " + podUid + ", service account " + serviceAccount + ")";
    }
}
