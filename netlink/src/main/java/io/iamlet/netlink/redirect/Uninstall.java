package io.iamlet.netlink.redirect;

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
        RuleChange.apply("uninstall every iamlet rule", (tx, dump) -> {
            NftablesBackend.planRemove(tx);
            IptablesBackend.planRemoveAll(tx, dump);
        });
        return before;
    }
}
