package io.iamlet.redirect.netfilter;

import io.iamlet.redirect.iptables.IptablesBackend;
import io.iamlet.redirect.nftables.NftablesBackend;
import io.iamlet.netlink.NetlinkNftTables;
import io.iamlet.netlink.nft.NftTables;

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
        return everything(NetlinkNftTables::open);
    }

    /** The same, on the nf_tables given (the kernel's, or a model of them). */
    public static String everything(NftTables.Opener tables) {
        String before = new NftablesBackend("uninstall", tables).show().describe()
                + new IptablesBackend("uninstall", false, tables).show().describe();
        RuleChange.apply(tables, "uninstall every iamlet rule", (tx, dump) -> {
            NftablesBackend.planRemove(tx);
            IptablesBackend.planRemoveAll(tx, dump);
        });
        return before;
    }
}
