package io.iamlet.netlink;

import io.iamlet.netlink.ffm.Errno;
import io.iamlet.netlink.nft.NftChain;
import io.iamlet.netlink.nft.NftTable;
import io.iamlet.netlink.nft.NftTables;
import io.iamlet.netlink.nft.Transaction;
import io.iamlet.netlink.testing.TestNamespace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static io.iamlet.netlink.NetlinkConstants.NFPROTO_INET;
import static org.junit.jupiter.api.Assertions.*;

/** Transaction semantics the backends rely on, against the real kernel. */
class NetlinkNftTablesKernelTest {
    @RegisterExtension
    final TestNamespace ns = new TestNamespace();

    @Test
    void aRefusedMessageIsNamedAndNothingOfTheBatchIsApplied() throws Exception {
        NetlinkException e = ns.call(() -> {
            try (NftTables tables = NetlinkNftTables.open()) {
                Transaction tx = new Transaction().create(new NftTable(NFPROTO_INET, "first", "x"))
                        .delete(new NftTable(NFPROTO_INET, "absent", null));
                return assertThrows(NetlinkException.class, () -> tables.apply(tx, "test batch"));
            }
        });
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().startsWith("test batch (step: delete table inet absent) failed: ENOENT"), e.getMessage());
        assertEquals("", ns.exec("nft", "list", "ruleset").ok().stdout(), "the table of the same batch must not exist");
    }

    @Test
    void destroyRemovesATableWithItsChainsAndIsQuietWhenThereIsNone() throws Exception {
        NftTable table = new NftTable(NFPROTO_INET, "t", "x");
        ns.run(() -> {
            try (NftTables tables = NetlinkNftTables.open()) {
                tables.apply(new Transaction().destroy(table), "destroy an absent table");
                tables.apply(new Transaction().create(table).add(NftChain.regular(NFPROTO_INET, "t", "c")), "setup");
                tables.apply(new Transaction().destroy(table), "destroy");
                assertTrue(tables.table(NFPROTO_INET, "t").isEmpty());
            }
        });
        assertEquals("", ns.exec("nft", "list", "ruleset").ok().stdout());
    }

    @Test
    void dumpsReadBackWhatWasWritten() throws Exception {
        ns.run(() -> {
            try (NftTables tables = NetlinkNftTables.open()) {
                tables.apply(new Transaction().create(new NftTable(NFPROTO_INET, "t1", "hello"))
                        .add(NftChain.regular(NFPROTO_INET, "t1", "plain")), "setup");
                assertEquals(new NftTable(NFPROTO_INET, "t1", "hello"), tables.table(NFPROTO_INET, "t1").orElseThrow());
                assertTrue(tables.table(NFPROTO_INET, "t2").isEmpty());
                assertEquals(1, tables.tables(NFPROTO_INET).size());
                assertEquals(List.of(NftChain.regular(NFPROTO_INET, "t1", "plain")), tables.chains(NFPROTO_INET, "t1"));
                assertEquals(List.of(), tables.rules(NFPROTO_INET, "t1"));
            }
        });
        assertTrue(ns.exec("nft", "list", "ruleset").ok().stdout().contains("comment \"hello\""));
    }
}
