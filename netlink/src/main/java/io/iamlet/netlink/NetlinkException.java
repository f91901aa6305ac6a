package io.iamlet.netlink;

import io.iamlet.netlink.ffm.NativeException;

/** The kernel refused a netlink request (NLMSG_ERROR), or did not answer it. */
public final class NetlinkException extends NativeException {
    public NetlinkException(String operation, int errno, String kernelMessage) {
        super(operation, errno, kernelMessage);
    }
}
