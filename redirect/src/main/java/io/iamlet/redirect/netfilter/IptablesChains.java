package io.iamlet.redirect.netfilter;

import io.iamlet.netlink.nft.NftChain;
import io.iamlet.netlink.nft.NftReader;
import io.iamlet.netlink.nft.NftRule;
import io.iamlet.netlink.nft.Transaction;
import io.iamlet.netlink.nft.expr.Verdict;
import io.iamlet.redirect.IpFamily;

import java.util.List;

/**
 * The iptables backend's objects in iptables' own {@code nat} tables (ip and ip6): our chain
 * IAMLET-METADATA and the jumps to it from PREROUTING. Both netfilter backends remove them when they install,
 * and uninstall does, so reading and removing them lives here, shared, not in either backend.
 */
public final class IptablesChains {
    public static final String TABLE = "nat";
    public static final String PREROUTING = "PREROUTING";
    public static final String CHAIN = "IAMLET-METADATA";

    private IptablesChains() {
    }

    /** What one family's nat table holds that concerns us. */
    public record FamilyState(IpFamily family, boolean tableExists, boolean preroutingExists, boolean chainExists,
                              List<NftRule> prerouting, List<NftRule> chain) {
        public int nfproto() {
            return family.nfproto();
        }

        public String where() {
            return "table " + family.label() + " nat";
        }
    }

    public static FamilyState read(NftReader dump, IpFamily family) {
        int nfproto = family.nfproto();
        if (dump.table(nfproto, TABLE).isEmpty()) {
            return new FamilyState(family, false, false, false, List.of(), List.of());
        }
        List<NftChain> chains = dump.chains(nfproto, TABLE);
        List<NftRule> rules = dump.rules(nfproto, TABLE);
        return new FamilyState(family, true,
                chains.stream().anyMatch(c -> c.name().equals(PREROUTING)),
                chains.stream().anyMatch(c -> c.name().equals(CHAIN)),
                rules.stream().filter(r -> r.chain().equals(PREROUTING)).toList(),
                rules.stream().filter(r -> r.chain().equals(CHAIN)).toList());
    }

    /** Whether a rule jumps to our chain at all (ours or not): such jumps must go before the chain can. */
    public static boolean jumpsToOurs(NftRule rule) {
        return rule.expressions().stream().anyMatch(e -> e instanceof Verdict v && CHAIN.equals(v.chain()));
    }

    /** Every jump to our chain, then the chain; nothing else. */
    public static void planRemove(Transaction tx, FamilyState state) {
        for (NftRule rule : state.prerouting()) {
            if (jumpsToOurs(rule)) {
                tx.delete(rule);
            }
        }
        if (state.chainExists()) {
            NftChain ours = NftChain.regular(state.nfproto(), TABLE, CHAIN);
            tx.flush(ours).delete(ours);
        }
    }

    /** Every jump to our chain and the chain, in both families: for the other backend's install and for uninstall. */
    public static void planRemoveAll(Transaction tx, NftReader dump) {
        for (IpFamily family : IpFamily.values()) {
            planRemove(tx, read(dump, family));
        }
    }
}
