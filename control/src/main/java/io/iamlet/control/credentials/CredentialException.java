package io.iamlet.control.credentials;

/**
 * Credentials could not be had. {@code httpStatus} is what the pod gets; {@code code} is STS's error code
 * (AccessDenied, ...) or one of ours (Unreachable, Timeout).
 */
public final class CredentialException extends RuntimeException {
    private final int httpStatus;
    private final String code;
    private final boolean namesFix;

    public CredentialException(int httpStatus, String code, String message, Throwable cause) {
        this(httpStatus, code, message, cause, false);
    }

    /** @param namesFix the message already says what to change (the trust policy that lacks a permission, the annotation) */
    public CredentialException(int httpStatus, String code, String message, Throwable cause, boolean namesFix) {
        super(message, cause);
        this.httpStatus = httpStatus;
        this.code = code;
        this.namesFix = namesFix;
    }

    public CredentialException(int httpStatus, String code, String message) {
        this(httpStatus, code, message, null);
    }

    public int httpStatus() {
        return httpStatus;
    }

    public String code() {
        return code;
    }

    /** The role's trust policy does not let us assume it: a configuration error worth telling the pod's owner. */
    public boolean accessDenied() {
        return "AccessDenied".equals(code);
    }

    /** STS refused the pod's session policy (malformed, or over the packed size limit): the pod's owner must fix it. */
    public boolean policyRefused() {
        return "MalformedPolicyDocument".equals(code) || "PackedPolicyTooLarge".equals(code);
    }

    /** Whether the pod's owner (not the agent's operator alone) can and should act: worth a Warning Event on the pod. */
    public boolean forPodOwner() {
        return accessDenied() || policyRefused();
    }

    /** Whether the message already names the fix, so that an Event adds none of its own. */
    public boolean namesFix() {
        return namesFix;
    }

    /** STS refused because the role's trust policy does not allow sts:TagSession (session tags were sent). */
    public boolean tagSessionRefused() {
        return accessDenied() && getMessage() != null && getMessage().contains("sts:TagSession");
    }
}
