package io.iamlet.netlink;

import io.iamlet.netlink.nft.NftChain;
import io.iamlet.netlink.nft.NftRule;
import io.iamlet.netlink.nft.NftTable;
import io.iamlet.netlink.nft.NftTables;
import io.iamlet.netlink.nft.Transaction;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Optional;

/** nf_tables in the kernel, over one NETLINK_NETFILTER socket of the calling thread's network namespace. */
public final class NetlinkNftTables implements NftTables {
    private final NetlinkSocket socket;
    private final NftDump dump;

    private NetlinkNftTables(NetlinkSocket socket) {
        this.socket = socket;
        this.dump = new NftDump(socket);
    }

    public static NftTables open() {
        return new NetlinkNftTables(NetlinkSocket.openNetfilter());
    }

    @Override
    public Optional<NftTable> table(int family, String name) {
        return dump.table(family, name);
    }

    @Override
    public List<NftTable> tables(int family) {
        return dump.tables(family);
    }

    @Override
    public List<NftChain> chains(int family, String table) {
        return dump.chains(family, table);
    }

    @Override
    public List<NftRule> rules(int family, String table) {
        return dump.rules(family, table);
    }

    @Override
    public void apply(Transaction plan, String task) {
        if (plan.isEmpty()) {
            return;
        }
        // The batch's memory lives for this one send.
        try (Arena arena = Arena.ofConfined()) {
            NftBatch.encode(plan.ops(), socket::nextSequence, arena).send(socket, task);
        }
    }

    @Override
    public void close() {
        socket.close();
    }
}
