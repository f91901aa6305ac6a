package io.iamlet.netlink.redirect;

import io.iamlet.netlink.NetlinkSocket;
import io.iamlet.netlink.NftDump;
import io.iamlet.netlink.NftTransaction;

/**
 * Removes everything any iamlet backend installs in this network namespace (the nftables table with its
 * redirect or block, the iptables chains and jumps in ip and ip6 nat), in one transaction. For `iamlet
 * uninstall`: a Helm pre-delete hook, a cleanup Job, or a person. Idempotent.
 */
public final class Uninstall {
    private Uninstall() {
    }

    /** Returns what was there before, as people read it. */
    public static String everything() {
        String before = new NftablesBackend("uninstall").show().describe() + new IptablesBackend("uninstall", false).show().describe();
        try (NetlinkSocket socket = NetlinkSocket.openNetfilter();
             NftTransaction tx = new NftTransaction(socket::nextSequence)) {
            NftablesBackend.planRemove(tx);
            IptablesBackend.planRemoveAll(tx, new NftDump(socket));
            tx.commit(socket, "uninstall every iamlet rule");
        }
        return before;
    }
}
