package io.iamlet.netlink.redirect;

import io.iamlet.netlink.NetlinkException;
import io.iamlet.netlink.NetlinkSocket;
import io.iamlet.netlink.NftDump;
import io.iamlet.netlink.NftTransaction;
import io.iamlet.netlink.ffm.NativeException;

import java.util.function.Function;

/**
 * The frame every change to the rules shares: one socket, one transaction planned from what the kernel
 * holds, committed whole, then read back on the same socket. Any native failure on the way is reported as
 * a step of {@code task}, so the operator sees what was being attempted.
 */
final class RuleChange {
    /** Adds the messages of the change to the transaction; may read the current state first. */
    @FunctionalInterface
    interface Plan {
        void build(NftTransaction tx, NftDump dump);
    }

    private RuleChange() {
    }

    static <T> T apply(String task, Plan plan, Function<NetlinkSocket, T> readBack) {
        try (NetlinkSocket socket = NetlinkSocket.openNetfilter();
             NftTransaction tx = new NftTransaction(socket::nextSequence)) {
            plan.build(tx, new NftDump(socket));
            tx.commit(socket, task);
            return readBack.apply(socket);
        } catch (NativeException e) {
            throw NetlinkException.within(task, e);
        }
    }

    static void apply(String task, Plan plan) {
        apply(task, plan, socket -> null);
    }
}
