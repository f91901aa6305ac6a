package io.iamlet.redirect;

import io.iamlet.redirect.ebpf.CgroupRedirect;
import io.iamlet.redirect.ebpf.EbpfRedirect;
import io.iamlet.redirect.netfilter.NetfilterRedirect;
import io.iamlet.netlink.NetlinkConstants;
import io.iamlet.netlink.NetlinkNftTables;
import io.iamlet.netlink.nft.NftTables;
import io.iamlet.redirect.iptables.IptablesBackend;
import io.iamlet.redirect.nftables.NftablesBackend;
import io.iamlet.redirect.netfilter.Uninstall;

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
 */
public record Redirects(String version, boolean adoptKube2iamRules, Path bpfPinDir, Optional<Path> cgroup) {
    public Redirect of(Backend backend) {
        return switch (backend) {
            case NFTABLES -> new NetfilterRedirect(backend, new NftablesBackend(version));
            case IPTABLES -> new NetfilterRedirect(backend, new IptablesBackend(version, adoptKube2iamRules));
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
            Uninstall.everything();
        }
    }

    /** Everything any backend installed, gone (`iamlet uninstall`); returns what was there, as people read it. */
    public String removeAll() {
        CgroupRedirect ebpf = new CgroupRedirect(bpfPinDir);
        // Only a pin that exists needs bpf(2): nodes that never used the eBPF backend may not allow it.
        String pinned = Files.exists(ebpf.linkPin()) ? new EbpfRedirect(ebpf, Optional.empty()).show(Optional.empty()).description()
                : "eBPF link " + ebpf.linkPin() + ": not pinned\n";
        String before = Uninstall.everything();
        ebpf.remove();
        return before + pinned;
    }

    /** DNATs of metadata traffic in iptables' PREROUTING that are not ours (kube2iam's): they compete with ours. */
    public List<String> competingRules() {
        return new IptablesBackend(version, false).competingRules();
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
