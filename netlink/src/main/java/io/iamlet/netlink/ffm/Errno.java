package io.iamlet.netlink.ffm;

/** The errno values iamlet reacts to or explains, with the fix an operator needs. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int ERANGE = 34;
    public static final int EMSGSIZE = 90;
    public static final int EPROTONOSUPPORT = 93;
    public static final int EOPNOTSUPP = 95;
    public static final int EAFNOSUPPORT = 97;
    public static final int ENOBUFS = 105;

    private Errno() {
    }

    public static String name(int errno) {
        return switch (errno) {
            case EPERM -> "EPERM";
            case ENOENT -> "ENOENT";
            case EINTR -> "EINTR";
            case EBADF -> "EBADF";
            case EAGAIN -> "EAGAIN";
            case ENOMEM -> "ENOMEM";
            case EACCES -> "EACCES";
            case EBUSY -> "EBUSY";
            case EEXIST -> "EEXIST";
            case EINVAL -> "EINVAL";
            case ENOSPC -> "ENOSPC";
            case ERANGE -> "ERANGE";
            case EMSGSIZE -> "EMSGSIZE";
            case EPROTONOSUPPORT -> "EPROTONOSUPPORT";
            case EOPNOTSUPP -> "EOPNOTSUPP";
            case EAFNOSUPPORT -> "EAFNOSUPPORT";
            case ENOBUFS -> "ENOBUFS";
            default -> "errno " + errno;
        };
    }

    /** What to do about it, where there is one thing to say; null otherwise. */
    public static String hint(int errno) {
        return switch (errno) {
            case EPERM, EACCES -> "Changing netfilter rules needs CAP_NET_ADMIN in this network namespace:"
                    + " run as root, or give the container the NET_ADMIN capability and hostNetwork";
            case EPROTONOSUPPORT, EAFNOSUPPORT -> "The kernel has no nf_tables netlink support:"
                    + " load it with 'modprobe nf_tables' or use a kernel built with CONFIG_NF_TABLES";
            case EOPNOTSUPP -> "The kernel lacks an nf_tables feature this rule needs"
                    + " (nat chains need nft_chain_nat and nf_nat: 'modprobe nft_chain_nat')";
            case ENOBUFS -> "The netlink receive buffer overflowed; retry, and raise net.core.rmem_max if it repeats";
            default -> null;
        };
    }
}
