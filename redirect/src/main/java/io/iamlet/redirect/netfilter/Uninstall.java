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
        InstalledRules nftables = new NftablesBackend("uninstall", tables).show();
        InstalledRules iptables = new IptablesBackend("uninstall", false, tables).show();
        // Without its chains, the iptables backend shows the nftables table when that blocks (its block lives
        // there): the same table, listed once.
        String before = nftables.describe() + (iptables.location().equals(nftables.location()) ? "" : iptables.describe());
        RuleChange.apply(tables, "uninstall every iamlet rule", (tx, dump) -> {
            NftablesBackend.planRemove(tx);
            IptablesBackend.planRemoveAll(tx, dump);
        });
        return before;
    }
}
