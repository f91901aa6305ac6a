package io.iamlet.netlink.nft;

/** What an nf_tables operation acts on: a table, a chain or a rule, each of one address family. */
public sealed interface NftObject permits NftTable, NftChain, NftRule {
    int family();
}
