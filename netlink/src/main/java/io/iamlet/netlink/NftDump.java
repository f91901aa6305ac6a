package io.iamlet.netlink;

import io.iamlet.netlink.nft.NftChain;
import io.iamlet.netlink.nft.NftRule;
import io.iamlet.netlink.nft.NftTable;
import io.iamlet.netlink.nft.NftnlCodec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import io.iamlet.netlink.nft.NftReader;
import java.util.function.Function;

import static io.iamlet.netlink.NetlinkConstants.*;
import static io.iamlet.netlink.nftnl.common_h.nftnl_nlmsg_build_hdr;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;

/** Reads tables, chains and rules back from the kernel over netlink (GET and dump requests). */
public final class NftDump implements NftReader {
    private static final int ATTEMPTS = 5;
    private final NetlinkSocket socket;

    public NftDump(NetlinkSocket socket) {
        this.socket = socket;
    }

    /** The table, or empty when the kernel has none of that family and name. */
    public Optional<NftTable> table(int family, String name) {
        NftTable[] found = {null};
        String what = "get table " + familyName(family) + " " + name;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(4096, 8);
            int seq = socket.nextSequence();
            MemorySegment nlh = nftnl_nlmsg_build_hdr(buffer, (short) nftType(NFT_MSG_GETTABLE), (short) family, (short) 0, seq);
            NftnlCodec.tablePayload(nlh, new NftTable(family, name, null), false);
            socket.send(buffer, nlh.get(JAVA_INT_UNALIGNED, 0), what);
            socket.readSingle(seq, what, reply -> found[0] = NftnlCodec.parseTable(reply.segment()), () -> { });
        }
        return Optional.ofNullable(found[0]);
    }

    /** All tables of a family (NFPROTO_UNSPEC = 0 for every family). */
    public List<NftTable> tables(int family) {
        return dump(NFT_MSG_GETTABLE, family, "tables of " + familyName(family),
                nlh -> { },
                message -> NftnlCodec.parseTable(message.segment()))
                .stream().toList();
    }

    public List<NftChain> chains(int family, String table) {
        return dump(NFT_MSG_GETCHAIN, family, "chains of table " + familyName(family) + " " + table,
                nlh -> { },
                message -> NftnlCodec.parseChain(message.segment()))
                .stream().filter(c -> table.equals(c.table())).toList();
    }

    public List<NftRule> rules(int family, String table) {
        return dump(NFT_MSG_GETRULE, family, "rules of table " + familyName(family) + " " + table,
                nlh -> NftnlCodec.rulePayload(nlh, NftRule.of(family, table, null, List.of(), null)),
                message -> NftnlCodec.parseRule(message.segment()))
                .stream().filter(r -> table.equals(r.table())).toList();
    }

    private <T> List<T> dump(int msg, int family, String what, Consumer<MemorySegment> payload,
                             Function<NetlinkSocket.Message, T> parse) {
        for (int attempt = 1; ; attempt++) {
            List<T> items = new ArrayList<>();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buffer = arena.allocate(4096, 8);
                int seq = socket.nextSequence();
                MemorySegment nlh = nftnl_nlmsg_build_hdr(buffer, (short) nftType(msg), (short) family, (short) NLM_F_DUMP, seq);
                payload.accept(nlh);
                socket.send(buffer, nlh.get(JAVA_INT_UNALIGNED, 0), "dump " + what);
                socket.readDump(seq, "dump " + what, message -> items.add(parse.apply(message)));
                return items;
            } catch (NetlinkSocket.DumpInterruptedException e) {
                if (attempt == ATTEMPTS) {
                    throw e;
                }
            }
        }
    }
}
