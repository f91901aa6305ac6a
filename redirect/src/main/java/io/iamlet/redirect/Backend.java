package io.iamlet.redirect;

import java.util.Arrays;

/** The ways of redirecting pods' metadata traffic to the agent. */
public enum Backend {
    /** A table of iamlet's own, {@code inet iamlet} (the default). */
    NFTABLES("nftables", true),
    /** A chain in iptables' own nat tables, written as iptables-nft writes it. */
    IPTABLES("iptables", true),
    /** A cgroup connect4 program, attached through a pinned bpf_link. */
    EBPF("ebpf", false);

    private final String label;
    private final boolean netfilter;

    Backend(String label, boolean netfilter) {
        this.label = label;
        this.netfilter = netfilter;
    }

    public String label() {
        return label;
    }

    /** nf_tables rules: the netfilter backends replace each other in one atomic transaction. */
    public boolean netfilter() {
        return netfilter;
    }

    /** The backend named {@code text}; the message names the choices (the caller adds where the text came from). */
    public static Backend parse(String text) {
        return Arrays.stream(values()).filter(b -> b.label.equals(text)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("must be nftables, iptables or ebpf, not '" + text + "'"));
    }

    @Override
    public String toString() {
        return label;
    }
}
