package io.iamlet.redirect.netfilter;

import io.iamlet.netlink.NetlinkException;
import io.iamlet.netlink.ffm.Errno;
import io.iamlet.netlink.nft.NftChain;
import io.iamlet.netlink.nft.NftOp.Verb;
import io.iamlet.netlink.nft.NftOp;
import io.iamlet.netlink.nft.NftRule;
import io.iamlet.netlink.nft.NftTable;
import io.iamlet.netlink.nft.NftTables;
import io.iamlet.netlink.nft.Transaction;
import io.iamlet.netlink.nft.expr.Bytes;
import io.iamlet.netlink.nft.expr.Cmp;
import io.iamlet.netlink.nft.expr.Compat;
import io.iamlet.netlink.nft.expr.Counter;
import io.iamlet.netlink.nft.expr.Payload;
import io.iamlet.netlink.nft.expr.Verdict;
import io.iamlet.netlink.testing.FakeNftTables;
import io.iamlet.redirect.Backend;
import io.iamlet.redirect.OwnershipMarker;
import io.iamlet.redirect.RedirectSpec;
import io.iamlet.redirect.Redirects;
import io.iamlet.redirect.RuleCheck;
import io.iamlet.redirect.iptables.IptablesBackend;
import io.iamlet.redirect.iptables.IptablesRules;
import io.iamlet.redirect.nftables.NftablesBackend;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static io.iamlet.netlink.NetlinkConstants.*;
import static org.junit.jupiter.api.Assertions.*;

/** Backend logic on the model of nf_tables: plans, idempotency, adoption, cross-backend cleanup, without root. */
class BackendsOnModelTest {
    private static final RedirectSpec SPEC = RedirectSpec.parse("10.0.0.1", "cali+,docker0", 8181, "fd00::1").withContainerCredentials(true);

    private final FakeNftTables fake = new FakeNftTables();
    private final NftablesBackend nftables = new NftablesBackend("test", fake.opener());
    private final IptablesBackend iptables = new IptablesBackend("test", false, fake.opener());

    private List<NftRule> everyRule() {
        return Stream.of(NFPROTO_INET, NFPROTO_IPV4, NFPROTO_IPV6)
                .flatMap(f -> fake.tables(f).stream().flatMap(t -> fake.rules(f, t.name()).stream())).toList();
    }

    @Test
    void nftablesInstallsOneTableAndAThousandInstallsLeaveOneCopy() {
        InstalledRules first = nftables.installRules(SPEC);
        assertEquals(SPEC.rules(), first.redirectRules());
        for (int i = 0; i < 1000; i++) {
            nftables.installRules(SPEC);
        }
        assertEquals(List.of(new NftTable(NFPROTO_INET, "iamlet", OwnershipMarker.current("test", SPEC).text())), fake.tables(NFPROTO_INET));
        assertEquals(SPEC.rules().size(), everyRule().size());
        assertInstanceOf(RuleCheck.AsExpected.class, nftables.rules().check(Optional.of(SPEC)));
    }

    @Test
    void thePlanIsATypedListOfOperationsInTheKernelsOrder() {
        nftables.installRules(SPEC);
        List<NftOp> plan = fake.applied().getLast();
        NftTable bare = new NftTable(NFPROTO_INET, "iamlet", null);
        assertEquals(new NftOp(Verb.DESTROY, bare), plan.get(0), "whatever was there goes, and its absence is no error");
        assertEquals(Verb.CREATE, plan.get(1).verb());
        assertEquals(new NftTable(NFPROTO_INET, "iamlet", OwnershipMarker.current("test", SPEC).text()), plan.get(1).object());
        assertEquals(new NftOp(Verb.ADD, NftChain.base(NFPROTO_INET, "iamlet", "prerouting", IamletTable.HOOK)), plan.get(2));
        assertEquals(SPEC.rules().size(), plan.stream().filter(op -> op.verb() == Verb.ADD && op.object() instanceof NftRule).count());
        assertEquals(3 + SPEC.rules().size(), plan.size(), "nothing else: no iptables leftovers to remove");
    }

    @Test
    void iptablesInstallIsIdempotentAndRemoveLeavesOthersRules() {
        NftRule foreign = NftRule.of(NFPROTO_IPV4, "nat", "PREROUTING", List.of(Counter.zero()), "kube-proxy");
        fake.apply(new Transaction().add(new NftTable(NFPROTO_IPV4, "nat", null))
                .add(NftChain.base(NFPROTO_IPV4, "nat", "PREROUTING", new NftChain.Hook("nat", NF_INET_PRE_ROUTING, -100)))
                .add(foreign), "kube-proxy");
        for (int i = 0; i < 100; i++) {
            iptables.installRules(SPEC);
        }
        InstalledRules shown = iptables.rules();
        assertInstanceOf(RuleCheck.AsExpected.class, shown.check(Optional.of(SPEC)), shown.describe());
        // Per family: one jump per interface and destination, one DNAT; and kube-proxy's rule, still last.
        assertEquals(2 * (2 * 2 + 1) + 1, everyRule().size());
        assertEquals("kube-proxy", fake.rules(NFPROTO_IPV4, "nat").stream().filter(r -> r.chain().equals("PREROUTING")).toList().getLast().comment());
        iptables.remove();
        iptables.remove();
        assertEquals(List.of("kube-proxy"), everyRule().stream().map(NftRule::comment).toList());
    }

    @Test
    void kube2iamsDnatIsAdoptedOnlyWhenAsked() throws Exception {
        NftRule kube2iam = NftRule.of(NFPROTO_IPV4, "nat", "PREROUTING", List.of(
                new Payload(NFT_REG_1, NFT_PAYLOAD_NETWORK_HEADER, 16, 4),
                new Cmp(NFT_REG_1, NFT_CMP_EQ, new Bytes(InetAddress.ofLiteral("169.254.169.254").getAddress())),
                Counter.zero(),
                Compat.target("DNAT", 2, IptablesRules.natRange(InetAddress.ofLiteral("10.0.0.1"), 8181))), null);
        fake.apply(new Transaction().add(new NftTable(NFPROTO_IPV4, "nat", null))
                .add(NftChain.base(NFPROTO_IPV4, "nat", "PREROUTING", new NftChain.Hook("nat", NF_INET_PRE_ROUTING, -100)))
                .add(kube2iam), "kube2iam");
        iptables.installRules(SPEC);
        assertEquals(1, iptables.competingRules().size());
        new IptablesBackend("test", true, fake.opener()).installRules(SPEC);
        assertEquals(List.of(), iptables.competingRules());
    }

    @Test
    void eachNetfilterBackendRemovesTheOtherInTheSameTransaction() {
        nftables.installRules(SPEC);
        iptables.installRules(SPEC);
        assertTrue(fake.table(NFPROTO_INET, "iamlet").isEmpty(), "the iptables install took the nftables table away");
        int transactions = fake.applied().size();
        nftables.installRules(SPEC);
        assertEquals(transactions + 1, fake.applied().size(), "one transaction, so never both or neither");
        assertTrue(fake.chains(NFPROTO_IPV4, "nat").stream().noneMatch(c -> c.name().equals(IptablesChains.CHAIN)));
        assertTrue(fake.chains(NFPROTO_IPV6, "nat").stream().noneMatch(c -> c.name().equals(IptablesChains.CHAIN)));
    }

    @Test
    void blockReplacesTheRedirectAndTheNextInstallTheBlock() {
        for (NetfilterRedirect backend : List.of(nftables, iptables)) {
            backend.installRules(SPEC);
            InstalledRules blocked = backend.blockRules(SPEC);
            assertTrue(blocked.blocking());
            assertTrue(backend.rules().blocking(), backend + " shows its block");
            assertEquals(SPEC.rules().size(), everyRule().size(), "one reset per redirect, nothing else");
            backend.installRules(SPEC);
            assertFalse(backend.rules().blocking());
        }
        assertTrue(uninstall(fake.opener()).contains("IAMLET-METADATA"));
        assertEquals(List.of(), everyRule());
        assertEquals(List.of(), fake.tables(NFPROTO_INET));
    }

    /** `iamlet uninstall` printed "table inet iamlet" twice when it blocked (the demo's step 6): once per backend. */
    @Test
    void uninstallListsEachPlaceOnce() {
        for (NetfilterRedirect backend : List.of(nftables, iptables)) {
            backend.installRules(SPEC);
            backend.blockRules(SPEC);
            String before = uninstall(fake.opener());
            assertEquals(1, before.lines().filter(l -> l.startsWith("table inet iamlet")).count(), backend + ":\n" + before);
            assertEquals(List.of(), everyRule());
        }
    }

    @Test
    void theModelRefusesAsTheKernelDoesAndAppliesNothingOfARefusedBatch() {
        NetlinkException e = assertThrows(NetlinkException.class, () -> fake.apply(new Transaction()
                .create(new NftTable(NFPROTO_INET, "first", "x"))
                .delete(new NftTable(NFPROTO_INET, "absent", null)), "test batch"));
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().startsWith("test batch (step: delete table inet absent) failed: ENOENT"), e.getMessage());
        assertEquals(List.of(), fake.tables(NFPROTO_INET));
        fake.apply(new Transaction().create(new NftTable(NFPROTO_INET, "t", null)), "create");
        assertEquals(Errno.EEXIST, assertThrows(NetlinkException.class,
                () -> fake.apply(new Transaction().create(new NftTable(NFPROTO_INET, "t", null)), "again")).errno());
        NftChain target = NftChain.regular(NFPROTO_INET, "t", "target");
        fake.apply(new Transaction().add(NftChain.regular(NFPROTO_INET, "t", "from")).add(target)
                .add(NftRule.of(NFPROTO_INET, "t", "from", List.of(new Verdict(NFT_JUMP, "target")), null)), "jump");
        assertEquals(Errno.EBUSY, assertThrows(NetlinkException.class,
                () -> fake.apply(new Transaction().delete(target), "delete a chain jumped to")).errno());
        fake.apply(new Transaction().destroy(new NftTable(NFPROTO_INET, "t", null)).destroy(new NftTable(NFPROTO_INET, "t", null)),
                "destroy, then destroy what is no longer there");
        assertEquals(List.of(), fake.tables(NFPROTO_INET));
    }

    /** `iamlet uninstall` on the nf_tables given; no eBPF pin exists under the path, so bpf(2) is never called. */
    static String uninstall(NftTables.Opener tables) {
        return new Redirects("test", false, Path.of("/nonexistent/iamlet"), Optional.empty(), tables).removeAll();
    }
}
