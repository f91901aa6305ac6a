package io.iamlet.netlink.nft;

import java.util.List;
import java.util.Optional;

/** Reads tables, chains and rules, from the kernel or from a model of it. */
public interface NftReader {
    /** The table, or empty when there is none of that family and name. */
    Optional<NftTable> table(int family, String name);

    List<NftTable> tables(int family);

    /** The table's chains, in the order they were created. */
    List<NftChain> chains(int family, String table);

    /** The table's rules with their handles, chain by chain, each chain's in order. */
    List<NftRule> rules(int family, String table);
}
