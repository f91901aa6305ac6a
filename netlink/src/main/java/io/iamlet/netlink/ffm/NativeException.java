package io.iamlet.netlink.ffm;

/** A failed native call, with the operation that was attempted and the errno it returned. */
public class NativeException extends RuntimeException {
    private final String operation;
    private final int errno;
    private final String detail;

    public NativeException(String operation, int errno) {
        this(operation, errno, null);
    }

    public NativeException(String operation, int errno, String detail) {
        this(operation, errno, detail, Errno.hint(errno));
    }

    /** With a hint of the caller's own, for calls whose fix differs from netfilter's usual one. */
    public NativeException(String operation, int errno, String detail, String hint) {
        super(describe(operation, errno, detail, hint));
        this.operation = operation;
        this.errno = errno;
        this.detail = detail;
    }

    /** The kernel's or library's own words, when it gave any. */
    public String detail() {
        return detail;
    }

    private static String describe(String operation, int errno, String detail, String hint) {
        StringBuilder text = new StringBuilder(operation)
                .append(" failed: ")
                .append(Errno.name(errno))
                .append(" (")
                .append(Libc.strerror(errno))
                .append(')');
        if (detail != null && !detail.isBlank()) {
            text.append(": ").append(detail);
        }
        if (hint != null) {
            text.append(". ").append(hint);
        }
        return text.toString();
    }

    public String operation() {
        return operation;
    }

    public int errno() {
        return errno;
    }
}
