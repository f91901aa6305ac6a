package io.iamlet.redirect.netfilter;

import io.iamlet.netlink.NftBatch;
import io.iamlet.netlink.nft.NftChain;
import io.iamlet.netlink.nft.NftRule;
import io.iamlet.netlink.nft.NftTable;
import io.iamlet.netlink.nft.NftnlCodec;
import io.iamlet.netlink.nft.expr.Bytes;
import io.iamlet.netlink.nft.expr.Cmp;
import io.iamlet.netlink.nft.expr.Immediate;
import io.iamlet.netlink.nft.expr.Nat;
import io.iamlet.netlink.nft.expr.NftExpr;
import io.iamlet.netlink.nft.expr.Payload;
import io.iamlet.netlink.testing.FakeNftTables;
import io.iamlet.redirect.InterfacePattern;
import io.iamlet.redirect.IpFamily;
import io.iamlet.redirect.OwnershipMarker;
import io.iamlet.redirect.RedirectRule;
import io.iamlet.redirect.RedirectSpec;
import io.iamlet.redirect.nftables.NftablesBackend;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static io.iamlet.netlink.NetlinkConstants.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;
import static org.junit.jupiter.api.Assertions.*;

/** Builds netlink batches with libnftnl and parses them back, without touching the kernel (no root). */
class MessageBuildingTest {
    private static final RedirectSpec SPEC = RedirectSpec.parse("10.0.0.1", "cali+,docker0", 8181, "fd00::1");

    record Header(int length, int type, int flags, int seq, int family, int resId, MemorySegment message) {
    }

    static List<Header> headers(MemorySegment bytes) {
        List<Header> out = new ArrayList<>();
        long offset = 0;
        while (offset < bytes.byteSize()) {
            int length = bytes.get(JAVA_INT_UNALIGNED, offset);
            assertTrue(length >= 20, "message at " + offset + " too short: " + length);
            MemorySegment message = bytes.asSlice(offset, length);
            out.add(new Header(length,
                    Short.toUnsignedInt(message.get(JAVA_SHORT_UNALIGNED, 4)),
                    Short.toUnsignedInt(message.get(JAVA_SHORT_UNALIGNED, 6)),
                    message.get(JAVA_INT_UNALIGNED, 8),
                    Byte.toUnsignedInt(message.get(JAVA_BYTE, 16)),
                    Short.toUnsignedInt(Short.reverseBytes(message.get(JAVA_SHORT_UNALIGNED, 18))),
                    message));
            offset += (length + 3) & ~3;
        }
        assertEquals(bytes.byteSize(), offset, "messages must fill the batch exactly");
        return out;
    }

    /** The backend's own plan, as it ran against a model of an empty namespace, encoded: nothing retyped here. */
    private static NftBatch installBatch(AtomicInteger seq, OwnershipMarker marker, Arena arena) {
        FakeNftTables fake = new FakeNftTables();
        new NftablesBackend(marker.version(), fake.opener()).installRules(SPEC);
        return NftBatch.encode(fake.applied().getLast(), seq::incrementAndGet, arena);
    }

    @Test
    void batchIsFramedWithBeginAndEndAndEveryMessageAsksForAnAck() {
        AtomicInteger seq = new AtomicInteger(100);
        OwnershipMarker marker = OwnershipMarker.current("test", SPEC);
        try (Arena arena = Arena.ofConfined()) {
            NftBatch batch = installBatch(seq, marker, arena);
            List<Header> messages = headers(batch.bytes());
            assertEquals(4 + SPEC.rules().size() + 2, messages.size());
            assertEquals(NFNL_MSG_BATCH_BEGIN, messages.getFirst().type());
            assertEquals(NFNL_SUBSYS_NFTABLES, messages.getFirst().resId(), "batch must address the nftables subsystem");
            assertEquals(NFNL_MSG_BATCH_END, messages.getLast().type());
            List<Integer> types = messages.subList(1, messages.size() - 1).stream().map(h -> h.type() & 0xff).toList();
            assertEquals(List.of(NFT_MSG_NEWTABLE, NFT_MSG_DELTABLE, NFT_MSG_NEWTABLE, NFT_MSG_NEWCHAIN,
                    NFT_MSG_NEWRULE, NFT_MSG_NEWRULE, NFT_MSG_NEWRULE, NFT_MSG_NEWRULE), types);
            for (Header h : messages.subList(1, messages.size() - 1)) {
                assertEquals(NFNL_SUBSYS_NFTABLES, h.type() >> 8);
                assertEquals(NFPROTO_INET, h.family());
                assertEquals(NLM_F_REQUEST | NLM_F_ACK, h.flags() & (NLM_F_REQUEST | NLM_F_ACK));
            }
            // ensure = create if absent (no EXCL), recreate = EXCL, so the delete in between cannot fail
            assertEquals(0, messages.get(1).flags() & NLM_F_EXCL);
            assertEquals(NLM_F_EXCL, messages.get(3).flags() & NLM_F_EXCL);
            for (int i = 1; i < messages.size(); i++) {
                assertEquals(messages.get(i - 1).seq() + 1, messages.get(i).seq(), "sequence numbers must be consecutive");
            }
            assertEquals(messages.size() - 2, batch.steps().size(), "every message but begin/end is tracked for its ack");
            assertEquals(List.of("destroy table inet iamlet", "destroy table inet iamlet", "create table inet iamlet"),
                    batch.steps().values().stream().limit(3).toList(), "destroy is a create-if-absent and a delete, named once");
        }
    }

    @Test
    void tableCarriesTheMarkerAndRulesRoundTripThroughLibnftnl() {
        AtomicInteger seq = new AtomicInteger();
        OwnershipMarker marker = OwnershipMarker.current("1.2.3", SPEC);
        try (Arena arena = Arena.ofConfined()) {
            List<Header> messages = headers(installBatch(seq, marker, arena).bytes());
            NftTable created = NftnlCodec.parseTable(messages.get(3).message());
            assertEquals(new NftTable(NFPROTO_INET, "iamlet", "iamlet format=1 version=1.2.3 host-ip=10.0.0.1"), created);
            NftChain chain = NftnlCodec.parseChain(messages.get(4).message());
            assertEquals(NftChain.base(NFPROTO_INET, "iamlet", "prerouting", new NftChain.Hook("nat", NF_INET_PRE_ROUTING, -110)), chain);

            List<RedirectRule> parsed = new ArrayList<>();
            for (Header h : messages.subList(5, messages.size() - 1)) {
                NftRule rule = NftnlCodec.parseRule(h.message());
                assertEquals(marker.text(), rule.comment());
                assertEquals(NftRedirectRules.expressions(NftRedirectRules.fromNft(rule).orElseThrow()), rule.expressions());
                parsed.add(NftRedirectRules.fromNft(rule).orElseThrow());
            }
            assertEquals(SPEC.rules(), parsed);
        }
    }

    @Test
    void expressionsMatchWhatNftEmitsForTheSameRedirect() {
        RedirectRule v4 = new RedirectRule(IpFamily.IPV4, InterfacePattern.parse("cali+"),
                RedirectSpec.parseHostIp("10.0.0.1"), 8181);
        List<NftExpr> e = NftRedirectRules.expressions(v4);
        // The reference sequence from `nft --debug=netlink` (see shared/reference/netfilter-and-bpf.md).
        assertEquals("0x63616c69", ((Cmp) e.get(1)).data().toString(), "prefix compare of 'cali' without NUL");
        assertEquals("0xa9fea9fe", ((Cmp) e.get(5)).data().toString(), "169.254.169.254");
        assertEquals("0x0050", ((Cmp) e.get(9)).data().toString(), "port 80, network order");
        assertEquals("0x0a000001", ((Immediate) e.get(11)).data().toString());
        assertEquals("0x1ff5", ((Immediate) e.get(12)).data().toString(), "8181, network order");
        assertEquals(new Nat(NFT_NAT_DNAT, NFPROTO_IPV4, 1, 1, 2, 2, 3), e.get(13));

        RedirectRule exact = new RedirectRule(IpFamily.IPV6, InterfacePattern.parse("docker0"),
                RedirectSpec.parseHostIpv6("fd00::1"), 8181);
        List<NftExpr> e6 = NftRedirectRules.expressions(exact);
        assertEquals(16, ((Cmp) e6.get(1)).data().length(), "exact names compare all IFNAMSIZ bytes");
        assertEquals(new Payload(1, NFT_PAYLOAD_NETWORK_HEADER, 24, 16), e6.get(4));
    }

    @Test
    void aRuleThatOnlyResemblesOursIsNotTakenForOne() {
        RedirectRule rule = SPEC.rules().getFirst();
        List<NftExpr> exprs = new ArrayList<>(NftRedirectRules.expressions(rule));
        exprs.set(9, new Cmp(NFT_REG_1, NFT_CMP_EQ, Bytes.port(443)));
        assertTrue(NftRedirectRules.fromNft(NftRule.of(NFPROTO_INET, "iamlet", "prerouting", exprs, null)).isEmpty());
        exprs = new ArrayList<>(NftRedirectRules.expressions(rule));
        exprs.removeLast();
        assertTrue(NftRedirectRules.fromNft(NftRule.of(NFPROTO_INET, "iamlet", "prerouting", exprs, null)).isEmpty());
        assertEquals(rule, NftRedirectRules.fromNft(NftRule.of(NFPROTO_INET, "iamlet", "prerouting",
                NftRedirectRules.expressions(rule), null)).orElseThrow());
    }

    @Test
    void commentsLongerThanTheKernelAllowsAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NftnlCodec.commentUserdata("x".repeat(300)));
        assertTrue(e.getMessage().contains("too long"), e.getMessage());
        assertEquals("hello", NftnlCodec.commentOf(NftnlCodec.commentUserdata("hello")));
    }
}
