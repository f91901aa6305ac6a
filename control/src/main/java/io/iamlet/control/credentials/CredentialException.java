package io.iamlet.control.credentials;

/**
 * Credentials could not be had. {@code httpStatus} is what the pod gets; {@code code} is STS's error code
 * (AccessDenied, ...) or one of ours (Unreachable, Timeout).
 */
public final class CredentialException extends RuntimeException {
    private final int httpStatus;
    private final String code;

    public CredentialException(int httpStatus, String code, String message, Throwable cause) {
        super(message, cause);
        this.httpStatus = httpStatus;
        this.code = code;
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
}
