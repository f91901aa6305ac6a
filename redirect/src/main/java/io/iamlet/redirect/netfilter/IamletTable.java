package io.iamlet.redirect.netfilter;

import io.iamlet.netlink.nft.NftChain;
import io.iamlet.netlink.nft.NftReader;
import io.iamlet.netlink.nft.NftRule;
import io.iamlet.netlink.nft.NftTable;
import io.iamlet.netlink.nft.Transaction;
import io.iamlet.netlink.nft.expr.NftExpr;
import io.iamlet.redirect.OwnershipMarker;
import io.iamlet.redirect.RedirectRule;
import io.iamlet.redirect.RedirectSpec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

import static io.iamlet.netlink.NetlinkConstants.NFPROTO_INET;
import static io.iamlet.netlink.NetlinkConstants.NF_INET_PRE_ROUTING;

/**
 * iamlet's own nftables table, {@code inet iamlet}: the nftables backend's redirect lives there, and so
 * does the block of both netfilter backends (iptables has no reject in nat). Both backends remove it when
 * they install, so the plans that write, remove and read it live here, shared, not in either backend.
 * <p>
 * Family inet, so one table carries both the IPv4 and the IPv6 redirect and one DELTABLE removes both.
 * Priority -110 puts our chain before kube-proxy's nat chains (-100): the first nat chain that binds a
 * connection decides its NAT. We never write into tables named nat or filter: iptables-nft cannot read
 * native nat expressions and would fail for the whole table.
 */
public final class IamletTable {
    public static final String TABLE = "iamlet";
    public static final String CHAIN = "prerouting";
    /** NF_IP_PRI_NAT_DST (-100) minus 10, nft's "dstnat - 10". */
    public static final int PRIORITY = -110;
    public static final NftChain.Hook HOOK = new NftChain.Hook("nat", NF_INET_PRE_ROUTING, PRIORITY);
    /** Where the block lives: reject is not allowed in nat chains, so a filter chain on the same hook. */
    public static final String BLOCK_CHAIN = "block";
    public static final NftChain.Hook BLOCK_HOOK = new NftChain.Hook("filter", NF_INET_PRE_ROUTING, PRIORITY);
    public static final String LOCATION = "table inet " + TABLE;

    private IamletTable() {
    }

    /** The table, emptied and recreated with one base chain, in the transaction given. */
    public static void planReplace(Transaction tx, OwnershipMarker marker, String chain, NftChain.Hook hook) {
        planRemove(tx);
        tx.create(new NftTable(NFPROTO_INET, TABLE, marker.text()))
                .add(NftChain.base(NFPROTO_INET, TABLE, chain, hook));
    }

    /** Deletes the table if it is there. */
    public static void planRemove(Transaction tx) {
        tx.destroy(new NftTable(NFPROTO_INET, TABLE, null));
    }

    /** The block: every redirect of {@code spec} answered with a TCP reset instead. */
    public static void planBlock(Transaction tx, RedirectSpec spec, OwnershipMarker marker) {
        planReplace(tx, marker, BLOCK_CHAIN, BLOCK_HOOK);
        for (RedirectRule rule : spec.rules()) {
            tx.add(NftRule.of(NFPROTO_INET, TABLE, BLOCK_CHAIN, NftRedirectRules.blockExpressions(rule), marker.text()));
        }
    }

    /** The read-back check of a block: every interface and family blocked, nothing redirected. */
    public static InstalledRules verifiedBlock(InstalledRules installed, RedirectSpec spec) {
        List<RedirectRule> want = spec.rules().stream()
                .map(r -> NftRedirectRules.blocked(r.family(), r.iface(), r.destination())).toList();
        if (!installed.blocked().equals(want) || !installed.rules().isEmpty()) {
            throw new IllegalStateException("read back " + LOCATION + " after blocking, and it does not hold the block asked for: "
                    + installed.describe());
        }
        return installed;
    }

    /** What the table holds: the nftables backend's redirect, or the block of either backend. */
    public static InstalledRules read(NftReader dump) {
        Optional<NftTable> table = dump.table(NFPROTO_INET, TABLE);
        if (table.isEmpty()) {
            return InstalledRules.absent(LOCATION);
        }
        List<String> problems = new ArrayList<>();
        Optional<OwnershipMarker> marker = OwnershipMarker.parse(table.get().comment());
        if (marker.isEmpty()) {
            problems.add(LOCATION + " carries no iamlet marker: something else created it");
        }
        List<NftChain> chains = dump.chains(NFPROTO_INET, TABLE);
        boolean blocking = holdsBlock(chains);
        checkChains(chains, blocking, problems);
        Map<Boolean, List<NftRule>> rules = dump.rules(NFPROTO_INET, TABLE).stream()
                .collect(Collectors.partitioningBy(rule -> blocking && rule.chain().equals(BLOCK_CHAIN)));
        List<RedirectRule> blocked = readBlock(rules.get(true), problems);
        List<InstalledRules.Entry> entries = readRedirects(rules.get(false), problems);
        reportDuplicates(entries, problems);
        return new InstalledRules(LOCATION, true, marker, entries, problems, blocked);
    }

    /** Whether the table is a block: its filter chain on our hook. */
    private static boolean holdsBlock(List<NftChain> chains) {
        return chains.stream().anyMatch(c -> c.name().equals(BLOCK_CHAIN) && c.hook().equals(Optional.of(BLOCK_HOOK)));
    }

    /** Our one chain (the redirect's or the block's), with our hook; any other chain is foreign. */
    private static void checkChains(List<NftChain> chains, boolean blocking, List<String> problems) {
        if (!blocking && chains.stream().noneMatch(c -> c.name().equals(CHAIN))) {
            problems.add("chain " + CHAIN + " is missing");
        }
        for (NftChain chain : chains) {
            if (blocking && chain.name().equals(BLOCK_CHAIN)) {
                continue;
            }
            if (!chain.name().equals(CHAIN)) {
                problems.add("foreign chain " + chain.name());
            } else if (!chain.hook().equals(Optional.of(HOOK))) {
                problems.add("chain " + CHAIN + " has " + chain.hook().map(Object::toString).orElse("no hook")
                        + ", expected " + HOOK);
            }
        }
    }

    /** The block chain's rules: each a block of ours with our marker, or a problem. */
    private static List<RedirectRule> readBlock(List<NftRule> rules, List<String> problems) {
        List<RedirectRule> blocked = new ArrayList<>();
        for (NftRule rule : rules) {
            Optional<RedirectRule> block = NftRedirectRules.blockFromNft(rule);
            if (block.isPresent() && OwnershipMarker.parse(rule.comment()).isPresent()) {
                blocked.add(block.get());
            } else {
                problems.add("foreign rule in chain " + BLOCK_CHAIN + " (handle " + rule.handle() + ")");
            }
        }
        return blocked;
    }

    /** The redirect chain's rules: each a redirect of ours (a marker missing is a problem too), or a foreign rule. */
    private static List<InstalledRules.Entry> readRedirects(List<NftRule> rules, List<String> problems) {
        List<InstalledRules.Entry> entries = new ArrayList<>();
        for (NftRule rule : rules) {
            Optional<RedirectRule> redirect = NftRedirectRules.fromNft(rule);
            if (!rule.chain().equals(CHAIN) || redirect.isEmpty()) {
                problems.add("foreign rule in chain " + rule.chain() + " (handle " + rule.handle() + "): "
                        + rule.expressions().stream().map(NftExpr::name).collect(Collectors.joining(" ")));
                continue;
            }
            if (OwnershipMarker.parse(rule.comment()).isEmpty()) {
                problems.add("rule without iamlet marker (handle " + rule.handle() + "): " + redirect.get());
            }
            entries.add(new InstalledRules.Entry(redirect.get(), rule.handle(), NftRedirectRules.packets(rule)));
        }
        return entries;
    }

    private static void reportDuplicates(List<InstalledRules.Entry> entries, List<String> problems) {
        Map<RedirectRule, List<Long>> handles = new LinkedHashMap<>();
        entries.forEach(e -> handles.computeIfAbsent(e.rule(), r -> new ArrayList<>()).add(e.handle()));
        handles.forEach((rule, hs) -> {
            if (hs.size() > 1) {
                problems.add("duplicate rule (" + hs.size() + " copies, handles " + hs + "): " + rule);
            }
        });
    }
}
