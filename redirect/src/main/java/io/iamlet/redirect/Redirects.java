package io.iamlet.redirect;

import io.iamlet.redirect.ebpf.CgroupRedirect;
import io.iamlet.redirect.ebpf.EbpfRedirect;
import io.iamlet.redirect.netfilter.IamletTable;
import io.iamlet.redirect.netfilter.InstalledRules;
import io.iamlet.redirect.netfilter.IptablesChains;
import io.iamlet.redirect.netfilter.RuleChange;
import io.iamlet.netlink.NetlinkConstants;
import io.iamlet.netlink.NetlinkNftTables;
import io.iamlet.netlink.nft.NftTables;
import io.iamlet.redirect.iptables.IptablesBackend;
import io.iamlet.redirect.nftables.NftablesBackend;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The one place that chooses a backend and cleans up the others: the agent and every command go through
 * here. Switching to a backend installs it first and then removes every other kind, so a node never has
 * none (pods would reach the node's credentials) and ends with exactly one.
 *
 * @param version            recorded in the ownership marker of what is installed
 * @param adoptKube2iamRules iptables: remove kube2iam's DNATs of metadata traffic on install
 * @param bpfPinDir          where the eBPF backend pins its link (in a BPF filesystem)
 * @param cgroup             the pods' cgroup v2 directory, for the eBPF backend
 * @param tables             the kernel's nf_tables, or a model of them, for the netfilter backends
 */
public record Redirects(String version, boolean adoptKube2iamRules, Path bpfPinDir, Optional<Path> cgroup, NftTables.Opener tables) {
    /** On the kernel's nf_tables. */
    public Redirects(String version, boolean adoptKube2iamRules, Path bpfPinDir, Optional<Path> cgroup) {
        this(version, adoptKube2iamRules, bpfPinDir, cgroup, NetlinkNftTables::open);
    }

    public Redirect of(Backend backend) {
        return switch (backend) {
            case NFTABLES -> new NftablesBackend(version, tables);
            case IPTABLES -> new IptablesBackend(version, adoptKube2iamRules, tables);
            case EBPF -> new EbpfRedirect(new CgroupRedirect(bpfPinDir), cgroup);
        };
    }

    /** Installs {@code backend}'s redirect, then removes what any other backend left. */
    public Shown switchTo(Backend backend, RedirectSpec spec) {
        Shown installed = of(backend).install(spec);
        removeAllBut(backend);
        return installed;
    }

    /** Replaces {@code backend}'s redirect with its block, and removes what any other backend left. */
    public Shown block(Backend backend, RedirectSpec spec) {
        Shown blocked = of(backend).block(spec);
        removeAllBut(backend);
        return blocked;
    }

    /**
     * The netfilter backends already removed each other in the transaction that installed one of them (a
     * batch is atomic, so there is never a moment with both or neither); what is left is the other kind.
     */
    private void removeAllBut(Backend kept) {
        if (kept.netfilter()) {
            of(Backend.EBPF).remove();
        } else {
            removeNetfilter();
        }
    }

    /** Everything any backend installed, gone (`iamlet uninstall`); returns what was there, as people read it. */
    public String removeAll() {
        CgroupRedirect ebpf = new CgroupRedirect(bpfPinDir);
        // Only a pin that exists needs bpf(2): nodes that never used the eBPF backend may not allow it.
        String pinned = Files.exists(ebpf.linkPin()) ? new EbpfRedirect(ebpf, Optional.empty()).show(Optional.empty()).description()
                : "eBPF link " + ebpf.linkPin() + ": not pinned\n";
        String before = removeNetfilter();
        ebpf.remove();
        return before + pinned;
    }

    /**
     * Removes everything either netfilter backend installs in this network namespace (iamlet's nftables table
     * with its redirect or block, the iptables chains and jumps in ip and ip6 nat), in one transaction;
     * returns what was there, as people read it.
     */
    private String removeNetfilter() {
        InstalledRules nftables = new NftablesBackend(version, tables).rules();
        InstalledRules iptables = new IptablesBackend(version, false, tables).rules();
        // Without its chains, the iptables backend shows the nftables table when that blocks (its block lives
        // there): the same table, listed once.
        String before = nftables.describe() + (iptables.location().equals(nftables.location()) ? "" : iptables.describe());
        RuleChange.apply(tables, "uninstall every iamlet rule", (tx, dump) -> {
            IamletTable.planRemove(tx);
            IptablesChains.planRemoveAll(tx, dump);
        });
        return before;
    }

    /** DNATs of metadata traffic in iptables' PREROUTING that are not ours (kube2iam's): they compete with ours. */
    public List<String> competingRules() {
        return new IptablesBackend(version, false, tables).competingRules();
    }

    /** Opens nf_tables over netlink and lists the inet tables: throws, saying why, when that cannot be done here. */
    public static void probeNetfilter() {
        try (NftTables tables = NetlinkNftTables.open()) {
            tables.tables(NetlinkConstants.NFPROTO_INET);
        }
    }

    /** Whether this network namespace has a legacy (x_tables) iptables nat table, which nf_tables cannot see. */
    public static boolean legacyNatInUse() {
        return IptablesBackend.legacyNatInUse();
    }
}
