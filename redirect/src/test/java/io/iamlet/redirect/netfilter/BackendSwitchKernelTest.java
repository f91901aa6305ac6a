package io.iamlet.redirect.netfilter;

import io.iamlet.redirect.RedirectSpec;
import io.iamlet.redirect.iptables.IptablesBackend;
import io.iamlet.redirect.nftables.NftablesBackend;
import io.iamlet.netlink.testing.TestNamespace;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Changing backends never leaves the other's rules behind; uninstall leaves nothing of ours at all. */
class BackendSwitchKernelTest {
    private static final RedirectSpec SPEC = RedirectSpec.parse("10.70.0.1", "cali+", 8181, "fd70::1");
    @RegisterExtension
    final TestNamespace ns = new TestNamespace();



    private String ruleset() {
        return ns.exec("nft", "list", "ruleset").ok().stdout();
    }

    @Test
    void eachInstallClearsTheOtherBackend() throws Exception {
        ns.run(() -> new IptablesBackend("test", false).install(SPEC));
        assertTrue(ruleset().contains("IAMLET-METADATA"));
        ns.run(() -> new NftablesBackend("test").install(SPEC));
        assertFalse(ruleset().contains("IAMLET-METADATA"), ruleset());
        assertTrue(ruleset().contains("table inet iamlet"));
        ns.run(() -> new IptablesBackend("test", false).install(SPEC));
        assertFalse(ruleset().contains("table inet iamlet"), ruleset());
        assertEquals(2, ns.exec("iptables-nft", "-t", "nat", "-S").ok().stdout().lines().filter(l -> l.contains("IAMLET")).count() - 1);
    }

    @Test
    void uninstallRemovesEveryKindAndIsIdempotent() throws Exception {
        ns.run(() -> new NftablesBackend("test").install(SPEC));
        // A stale chain of an older iptables-backend agent, left beside it.
        ns.exec("iptables-nft", "-t", "nat", "-N", "IAMLET-METADATA").ok();
        ns.exec("iptables-nft", "-t", "nat", "-A", "PREROUTING", "-i", "eni+", "-j", "IAMLET-METADATA").ok();
        ns.exec("iptables-nft", "-t", "nat", "-A", "POSTROUTING", "-j", "MASQUERADE").ok();
        String before = ns.call(Uninstall::everything);
        assertTrue(before.contains("table inet iamlet"), before);
        String after = ruleset();
        assertFalse(after.contains("iamlet") || after.contains("IAMLET"), after);
        assertTrue(after.contains("masquerade"), "nobody else's rules go");
        ns.call(Uninstall::everything);
        ns.run(() -> new NftablesBackend("test").block(SPEC));
        ns.call(Uninstall::everything);
        assertFalse(ruleset().contains("iamlet"));
    }
}
