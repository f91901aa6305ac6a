package io.iamlet.redirect.netfilter;

import io.iamlet.netlink.NetlinkException;
import io.iamlet.netlink.ffm.NativeException;
import io.iamlet.netlink.nft.NftReader;
import io.iamlet.netlink.nft.NftTables;
import io.iamlet.netlink.nft.Transaction;

import java.util.function.Function;

/**
 * The frame every change to the rules shares: one session, one transaction planned from what is there,
 * applied whole, then read back in the same session. Any native failure on the way is reported as a step
 * of {@code task}, so the operator sees what was being attempted.
 */
public final class RuleChange {
    /** Adds the operations of the change to the transaction; may read the current state first. */
    @FunctionalInterface
    public interface Plan {
        void build(Transaction tx, NftReader current);
    }

    private RuleChange() {
    }

    public static <T> T apply(NftTables.Opener opener, String task, Plan plan, Function<NftReader, T> readBack) {
        try (NftTables tables = opener.open()) {
            Transaction tx = new Transaction();
            plan.build(tx, tables);
            if (!tx.isEmpty()) {
                tables.apply(tx, task);
            }
            return readBack.apply(tables);
        } catch (NativeException e) {
            throw NetlinkException.within(task, e);
        }
    }

    public static void apply(NftTables.Opener opener, String task, Plan plan) {
        apply(opener, task, plan, tables -> null);
    }
}
