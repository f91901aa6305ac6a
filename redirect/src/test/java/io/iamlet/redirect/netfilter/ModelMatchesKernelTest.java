package io.iamlet.redirect.netfilter;

import io.iamlet.netlink.NetlinkException;
import io.iamlet.netlink.NetlinkNftTables;
import io.iamlet.netlink.nft.NftChain;
import io.iamlet.netlink.nft.NftReader;
import io.iamlet.netlink.nft.NftRule;
import io.iamlet.netlink.nft.NftTable;
import io.iamlet.netlink.nft.NftTables;
import io.iamlet.netlink.nft.Transaction;
import io.iamlet.netlink.nft.expr.Counter;
import io.iamlet.netlink.testing.FakeNftTables;
import io.iamlet.netlink.testing.TestNamespace;
import io.iamlet.redirect.RedirectSpec;
import io.iamlet.redirect.iptables.IptablesBackend;
import io.iamlet.redirect.nftables.NftablesBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static io.iamlet.netlink.NetlinkConstants.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The model the root-free tests run on, held against the kernel: the same steps (the backends' own plans,
 * and a batch the kernel refuses) run on both, and after each step both hold the same tables, chains and
 * rules (handles and counter values aside, which only the kernel knows).
 */
class ModelMatchesKernelTest {
    private static final RedirectSpec SPEC = RedirectSpec.parse("10.95.0.1", "cali+,docker0", 8181, "fd95::1").withContainerCredentials(true);

    @RegisterExtension
    final TestNamespace ns = new TestNamespace();
    private final FakeNftTables fake = new FakeNftTables();

    private static List<String> state(NftReader reader) {
        List<String> out = new ArrayList<>();
        for (int family : List.of(NFPROTO_INET, NFPROTO_IPV4, NFPROTO_IPV6)) {
            for (NftTable table : reader.tables(family)) {
                out.add(table.toString() + " comment=" + table.comment());
                reader.chains(family, table.name()).forEach(c -> out.add("  " + c + " " + c.hook()));
                for (NftRule rule : reader.rules(family, table.name())) {
                    NftRule content = rule.content();
                    out.add("    " + new NftRule(content.family(), content.table(), content.chain(), 0, content.expressions(), content.comment())
                            + " " + content.expressions() + " comment=" + content.comment());
                }
            }
        }
        return out;
    }

    /** Runs one step on the kernel and on the model, then compares what both hold. */
    private void both(String step, Consumer<NftTables.Opener> action) throws Exception {
        Exception kernelFailure = ns.call(() -> {
            try {
                action.accept(NetlinkNftTables::open);
                return null;
            } catch (NetlinkException e) {
                return e;
            }
        });
        Exception modelFailure = null;
        try {
            action.accept(fake.opener());
        } catch (NetlinkException e) {
            modelFailure = e;
        }
        assertEquals(kernelFailure == null ? null : kernelFailure.getMessage(), modelFailure == null ? null : modelFailure.getMessage(), step);
        List<String> kernel = ns.call(() -> {
            try (NftTables t = NetlinkNftTables.open()) {
                return state(t);
            }
        });
        assertEquals(kernel, state(fake), step + ": the model holds what the kernel holds");
    }

    @Test
    void theSameStepsLeaveTheSameRulesetInBoth() throws Exception {
        NftChain prerouting = NftChain.base(NFPROTO_IPV4, "nat", "PREROUTING", new NftChain.Hook("nat", NF_INET_PRE_ROUTING, NF_IP_PRI_NAT_DST));
        both("kube-proxy's table", o -> {
            try (NftTables t = o.open()) {
                t.apply(new Transaction().add(new NftTable(NFPROTO_IPV4, "nat", null)).add(prerouting)
                        .add(NftRule.of(NFPROTO_IPV4, "nat", "PREROUTING", List.of(Counter.zero()), "kube-proxy")),
                        "kube-proxy");
            }
        });
        both("nftables install", o -> new NftablesBackend("test", o).installRules(SPEC));
        both("nftables install again", o -> new NftablesBackend("test", o).installRules(SPEC));
        both("switch to iptables", o -> new IptablesBackend("test", false, o).installRules(SPEC));
        both("iptables install with fewer interfaces", o -> new IptablesBackend("test", false, o).installRules(
                RedirectSpec.parse("10.95.0.1", "eni+", 8181, null)));
        both("iptables block", o -> new IptablesBackend("test", false, o).blockRules(SPEC));
        both("nftables install over the block", o -> new NftablesBackend("test", o).installRules(SPEC));
        both("nftables block", o -> new NftablesBackend("test", o).blockRules(SPEC));
        both("a refused batch", o -> {
            try (NftTables t = o.open()) {
                t.apply(new Transaction().create(new NftTable(NFPROTO_INET, "half", "x"))
                        .delete(new NftTable(NFPROTO_INET, "absent", null)), "refused");
            }
        });
        both("uninstall", BackendsOnModelTest::uninstall);
        // The ip6 nat table and its PREROUTING chain the iptables backend created stay, as iptables-nft leaves them.
        assertEquals(List.of("    rule ip nat PREROUTING [Counter[packets=0, bytes=0]] comment=kube-proxy"),
                state(fake).stream().filter(l -> l.startsWith("    rule")).toList(), "only kube-proxy's rule is left");
    }
}
