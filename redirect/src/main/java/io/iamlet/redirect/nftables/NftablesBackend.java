package io.iamlet.redirect.nftables;

import io.iamlet.netlink.NetlinkNftTables;
import io.iamlet.netlink.nft.NftTables;
import io.iamlet.redirect.Backend;
import io.iamlet.redirect.OwnershipMarker;
import io.iamlet.redirect.RedirectRule;
import io.iamlet.redirect.RedirectSpec;
import io.iamlet.redirect.netfilter.IamletTable;
import io.iamlet.redirect.netfilter.InstalledRules;
import io.iamlet.redirect.netfilter.NetfilterRedirect;
import io.iamlet.redirect.netfilter.IptablesChains;
import io.iamlet.redirect.netfilter.NftRedirectRules;
import io.iamlet.redirect.netfilter.RuleChange;


import static io.iamlet.redirect.netfilter.IamletTable.CHAIN;
import static io.iamlet.redirect.netfilter.IamletTable.HOOK;
import static io.iamlet.redirect.netfilter.IamletTable.LOCATION;
import static io.iamlet.redirect.netfilter.IamletTable.TABLE;

/**
 * The native nftables backend: iamlet's own table ({@link IamletTable}) holding one nat chain at
 * prerouting priority dstnat-10 with one DNAT rule per interface pattern and address family.
 */
public final class NftablesBackend extends NetfilterRedirect {
    /** @param version the agent version recorded in the ownership marker */
    public NftablesBackend(String version) {
        this(version, NetlinkNftTables::open);
    }

    /** @param tables the kernel's nf_tables, or a model of them */
    public NftablesBackend(String version, NftTables.Opener tables) {
        super(Backend.NFTABLES, version, tables);
    }

    /**
     * One transaction: destroy, create with the marker, chain, rules. Because the kernel
     * applies it whole, there is never a moment with two copies or none, and running it again (after a
     * restart or a kill -9) leaves exactly the same single set. The rules are read back before returning.
     */
    @Override
    public InstalledRules installRules(RedirectSpec spec) {
        OwnershipMarker marker = OwnershipMarker.current(version, spec);
        return RuleChange.apply(tables, "install metadata redirect in " + LOCATION, (tx, dump) -> {
            IamletTable.planReplace(tx, marker, CHAIN, HOOK);
            for (RedirectRule rule : spec.rules()) {
                tx.add(NftRedirectRules.toNft(rule, TABLE, CHAIN, marker));
            }
            // Switching backends must not leave the other one's redirect behind.
            IptablesChains.planRemoveAll(tx, dump);
        }, current -> IamletTable.read(current).verified(spec));
    }

    @Override
    public InstalledRules blockRules(RedirectSpec spec) {
        return RuleChange.apply(tables, "block pod metadata access in " + LOCATION, (tx, dump) -> {
            IamletTable.planBlock(tx, spec, OwnershipMarker.current(version, spec));
            IptablesChains.planRemoveAll(tx, dump);
        }, current -> IamletTable.verifiedBlock(IamletTable.read(current), spec));
    }

    @Override
    public String remove() {
        RuleChange.apply(tables, "remove " + LOCATION, (tx, dump) -> IamletTable.planRemove(tx));
        return "removed " + LOCATION + " (if it was there); nothing else was touched";
    }

    @Override
    public InstalledRules rules() {
        try (NftTables current = tables.open()) {
            return IamletTable.read(current);
        }
    }
}
