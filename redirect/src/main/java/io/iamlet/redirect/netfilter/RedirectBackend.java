package io.iamlet.redirect.netfilter;

import io.iamlet.redirect.RedirectSpec;
import io.iamlet.redirect.iptables.IptablesBackend;
import io.iamlet.redirect.nftables.NftablesBackend;
/**
 * A way of redirecting pod metadata traffic to the agent. Every backend installs idempotently (install
 * N times == install once, also after a crash) and removes everything it installed.
 * Each call works in the network namespace of the calling thread.
 */
public interface RedirectBackend {
    /** Atomically replaces whatever this backend had installed with exactly the rules of {@code spec}. */
    InstalledRules install(RedirectSpec spec);

    /**
     * Atomically replaces the redirect with rules that reset pods' connections to the metadata service, so
     * that while no agent runs (a rolling update) pods can never reach the node's credentials. The next
     * install replaces the block.
     */
    InstalledRules block(RedirectSpec spec);

    /** Removes everything this backend installed; a no-op success when nothing is installed. */
    void remove();

    /** Reads back what is installed. */
    InstalledRules show();
}
