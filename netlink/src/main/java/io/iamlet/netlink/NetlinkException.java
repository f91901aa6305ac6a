package io.iamlet.netlink;

import io.iamlet.netlink.ffm.NativeException;

/** The kernel refused a netlink request (NLMSG_ERROR), or did not answer it. */
public final class NetlinkException extends NativeException {
    public NetlinkException(String operation, int errno, String kernelMessage) {
        super(operation, errno, kernelMessage);
    }

    /** The same failure, named as a step of a larger task ("install ...: get table ip nat failed: EPERM"). */
    public static NativeException within(String task, NativeException e) {
        if (e.operation().startsWith(task)) {
            return e;
        }
        NetlinkException wrapped = new NetlinkException(task + ": " + e.operation(), e.errno(), e.detail());
        wrapped.initCause(e);
        return wrapped;
    }
}
