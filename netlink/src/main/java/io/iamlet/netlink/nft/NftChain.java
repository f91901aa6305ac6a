package io.iamlet.netlink.nft;

import java.util.Optional;

import static io.iamlet.netlink.NetlinkConstants.familyName;

/** An nf_tables chain; a base chain has a hook, a regular chain (a jump target) has none. */
public record NftChain(int family, String table, String name, Optional<Hook> hook) implements NftObject {
    /** Type ("nat", "filter"), hook number and priority of a base chain. */
    public record Hook(String type, int hooknum, int priority) {
    }

    public static NftChain base(int family, String table, String name, Hook hook) {
        return new NftChain(family, table, name, Optional.of(hook));
    }

    public static NftChain regular(int family, String table, String name) {
        return new NftChain(family, table, name, Optional.empty());
    }

    @Override
    public String toString() {
        return "chain " + familyName(family) + " " + table + " " + name;
    }
}
