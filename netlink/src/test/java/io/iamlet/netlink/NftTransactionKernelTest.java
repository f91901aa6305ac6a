package io.iamlet.netlink;

import io.iamlet.netlink.ffm.Errno;
import io.iamlet.netlink.nft.NftChain;
import io.iamlet.netlink.nft.NftTable;
import io.iamlet.netlink.testing.TestNamespace;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;

import static io.iamlet.netlink.NetlinkConstants.NFPROTO_INET;
import static org.junit.jupiter.api.Assertions.*;

/** Transaction semantics the backends rely on, against the real kernel. */
class NftTransactionKernelTest {
    @RegisterExtension
    final TestNamespace ns = new TestNamespace();



    @Test
    void aRefusedMessageIsNamedAndNothingOfTheBatchIsApplied() throws Exception {
        NetlinkException e = ns.call(() -> {
            try (NetlinkSocket socket = NetlinkSocket.openNetfilter();
                 NftTransaction tx = new NftTransaction(socket::nextSequence)) {
                tx.createTable(new NftTable(NFPROTO_INET, "first", "x"))
                        .deleteTable(new NftTable(NFPROTO_INET, "absent", null));
                return assertThrows(NetlinkException.class, () -> tx.commit(socket, "test batch"));
            }
        });
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().startsWith("test batch (step: delete table inet absent) failed: ENOENT"), e.getMessage());
        assertEquals("", ns.exec("nft", "list", "ruleset").ok().stdout(), "the table of the same batch must not exist");
    }

    @Test
    void dumpsReadBackWhatWasWritten() throws Exception {
        ns.run(() -> {
            try (NetlinkSocket socket = NetlinkSocket.openNetfilter();
                 NftTransaction tx = new NftTransaction(socket::nextSequence)) {
                tx.createTable(new NftTable(NFPROTO_INET, "t1", "hello"))
                        .addChain(NftChain.regular(NFPROTO_INET, "t1", "plain"))
                        .commit(socket, "setup");
                NftDump dump = new NftDump(socket);
                assertEquals(new NftTable(NFPROTO_INET, "t1", "hello"), dump.table(NFPROTO_INET, "t1").orElseThrow());
                assertTrue(dump.table(NFPROTO_INET, "t2").isEmpty());
                assertEquals(1, dump.tables(NFPROTO_INET).size());
                assertEquals(java.util.List.of(NftChain.regular(NFPROTO_INET, "t1", "plain")), dump.chains(NFPROTO_INET, "t1"));
                assertEquals(java.util.List.of(), dump.rules(NFPROTO_INET, "t1"));
            }
        });
        assertTrue(ns.exec("nft", "list", "ruleset").ok().stdout().contains("comment \"hello\""));
    }
}
