package io.iamlet.redirect.iptables;

import io.iamlet.netlink.NetlinkNftTables;
import io.iamlet.netlink.nft.NftChain;
import io.iamlet.netlink.nft.NftReader;
import io.iamlet.netlink.nft.NftRule;
import io.iamlet.netlink.nft.NftTable;
import io.iamlet.netlink.nft.NftTables;
import io.iamlet.netlink.nft.Transaction;
import io.iamlet.netlink.nft.expr.Compat;
import io.iamlet.netlink.nft.expr.Verdict;
import io.iamlet.redirect.Backend;
import io.iamlet.redirect.Destination;
import io.iamlet.redirect.IpFamily;
import io.iamlet.redirect.OwnershipMarker;
import io.iamlet.redirect.RedirectRule;
import io.iamlet.redirect.RedirectSpec;
import io.iamlet.redirect.netfilter.IamletTable;
import io.iamlet.redirect.netfilter.InstalledRules;
import io.iamlet.redirect.netfilter.IptablesChains.FamilyState;
import io.iamlet.redirect.netfilter.IptablesChains;
import io.iamlet.redirect.netfilter.NetfilterRedirect;
import io.iamlet.redirect.netfilter.NftRedirectRules;
import io.iamlet.redirect.netfilter.RuleChange;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import static io.iamlet.netlink.NetlinkConstants.NF_INET_PRE_ROUTING;
import static io.iamlet.netlink.NetlinkConstants.NF_IP_PRI_NAT_DST;
import static io.iamlet.redirect.netfilter.IptablesChains.CHAIN;
import static io.iamlet.redirect.netfilter.IptablesChains.PREROUTING;
import static io.iamlet.redirect.netfilter.IptablesChains.TABLE;

/**
 * The redirect written into iptables' own {@code nat} table the way iptables-nft writes it, for operators
 * who expect {@code iptables -t nat -S} to show it (as kube2iam did). A chain of ours, IAMLET-METADATA,
 * holds the DNAT; PREROUTING holds one jump per interface pattern. Everything else in the table is left
 * exactly as it is, in its order. {@code ip6 nat} gets the same when an IPv6 host address is given.
 */
public final class IptablesBackend extends NetfilterRedirect {
    private static final NftChain.Hook PREROUTING_HOOK = new NftChain.Hook("nat", NF_INET_PRE_ROUTING, NF_IP_PRI_NAT_DST);

    private final boolean adoptKube2iamRules;

    /**
     * @param adoptKube2iamRules remove other DNATs of metadata traffic in PREROUTING (kube2iam's) in the
     *                           same transaction that installs ours, so the two never compete
     */
    public IptablesBackend(String version, boolean adoptKube2iamRules) {
        this(version, adoptKube2iamRules, NetlinkNftTables::open);
    }

    /** @param tables the kernel's nf_tables, or a model of them */
    public IptablesBackend(String version, boolean adoptKube2iamRules, NftTables.Opener tables) {
        super(Backend.IPTABLES, version, tables);
        this.adoptKube2iamRules = adoptKube2iamRules;
    }

    @Override
    public InstalledRules installRules(RedirectSpec spec) {
        OwnershipMarker marker = OwnershipMarker.current(version, spec);
        String task = "install metadata redirect in iptables nat tables";
        return RuleChange.apply(tables, task, (tx, dump) -> {
            for (IpFamily family : IpFamily.values()) {
                FamilyState state = IptablesChains.read(dump, family);
                Optional<InetAddress> target = family == IpFamily.IPV4
                        ? Optional.of(spec.hostIp()) : spec.hostIpv6().map(InetAddress.class::cast);
                if (target.isPresent()) {
                    planInstall(tx, state, spec, target.get(), marker);
                } else {
                    IptablesChains.planRemove(tx, state);
                }
            }
            // A block (or an nftables redirect) left by an earlier agent goes in the same transaction.
            IamletTable.planRemove(tx);
        }, current -> read(current).verified(spec));
    }

    /** Our chain, flushed and refilled, and the jumps to it. */
    private void planInstall(Transaction tx, FamilyState state, RedirectSpec spec, InetAddress target, OwnershipMarker marker) {
        planChain(tx, state, target, spec.port(), marker);
        planJumps(tx, state, spec, marker);
    }

    /** The nat table and PREROUTING if iptables has not made them yet, and our chain holding only the DNAT. */
    private static void planChain(Transaction tx, FamilyState state, InetAddress target, int port, OwnershipMarker marker) {
        int nfproto = state.nfproto();
        tx.add(new NftTable(nfproto, TABLE, null));
        if (!state.preroutingExists()) {
            tx.add(NftChain.base(nfproto, TABLE, PREROUTING, PREROUTING_HOOK));
        }
        NftChain ours = NftChain.regular(nfproto, TABLE, CHAIN);
        tx.add(ours);
        if (state.chainExists()) {
            tx.flush(ours);
        }
        tx.add(NftRule.of(nfproto, TABLE, CHAIN, IptablesRules.dnat(target, port), marker.text()));
    }

    /**
     * Jumps are compared by content, so an install adds only the jumps that are missing and removes only ours
     * that are no longer wanted or are duplicates (and, when adopting, kube2iam's DNATs): a thousand installs
     * leave one jump per interface, and nobody else's rules move.
     */
    private void planJumps(Transaction tx, FamilyState state, RedirectSpec spec, OwnershipMarker marker) {
        Set<IptablesRules.Jump> missing = new LinkedHashSet<>();
        for (Destination destination : spec.destinations()) {
            spec.interfaces().forEach(i -> missing.add(new IptablesRules.Jump(i, destination)));
        }
        for (NftRule rule : state.prerouting()) {
            Optional<IptablesRules.Jump> jump = IptablesRules.jumpOf(rule, state.family(), CHAIN);
            boolean ourShape = jump.isPresent() && OwnershipMarker.parse(rule.comment()).isPresent();
            if (ourShape && missing.remove(jump.get())) {
                continue;
            }
            if (IptablesChains.jumpsToOurs(rule) || (adoptKube2iamRules && IptablesRules.isForeignMetadataDnat(rule, state.family()))) {
                tx.delete(rule);
            }
        }
        // Inserted at the head, so no catch-all nat rule of someone else's can take metadata traffic first.
        for (IptablesRules.Jump jump : List.copyOf(missing).reversed()) {
            tx.insert(NftRule.of(state.nfproto(), TABLE, PREROUTING, IptablesRules.jump(state.family(), jump, CHAIN), marker.text()));
        }
    }

    /** iptables has no reject in nat; the block lives in iamlet's own nftables table, swapped in atomically. */
    @Override
    public InstalledRules blockRules(RedirectSpec spec) {
        return RuleChange.apply(tables, "block pod metadata access", (tx, dump) -> {
            IptablesChains.planRemoveAll(tx, dump);
            IamletTable.planBlock(tx, spec, OwnershipMarker.current(version, spec));
        }, current -> IamletTable.verifiedBlock(IamletTable.read(current), spec));
    }

    @Override
    public String remove() {
        RuleChange.apply(tables, "remove metadata redirect from iptables nat tables", IptablesChains::planRemoveAll);
        return "removed chain " + CHAIN + " and the jumps to it (if they were there); nothing else was touched";
    }

    /** Our chains; while blocked (the block lives in iamlet's nftables table, see {@link #block}), the block. */
    @Override
    public InstalledRules rules() {
        try (NftTables current = tables.open()) {
            InstalledRules own = read(current);
            if (!own.present()) {
                InstalledRules block = IamletTable.read(current);
                if (block.blocking()) {
                    return block;
                }
            }
            return own;
        }
    }

    private InstalledRules read(NftReader dump) {
        List<InstalledRules.Entry> entries = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        Optional<OwnershipMarker> marker = Optional.empty();
        boolean present = false;
        for (IpFamily family : IpFamily.values()) {
            FamilyState state = IptablesChains.read(dump, family);
            if (!state.chainExists()) {
                state.prerouting().stream().filter(r -> IptablesChains.jumpsToOurs(r))
                        .forEach(r -> problems.add(state.where() + ": jump to missing chain " + CHAIN + " (handle " + r.handle() + ")"));
                continue;
            }
            present = true;
            OurDnat dnat = ourDnat(state, problems);
            marker = marker.or(dnat::marker);
            if (dnat.target().isEmpty()) {
                problems.add(state.where() + ": chain " + CHAIN + " has no DNAT of ours");
            }
            readJumps(state, dnat.target(), entries, problems);
        }
        String location = "chain " + CHAIN + " in iptables tables ip nat / ip6 nat";
        return present || !problems.isEmpty()
                ? new InstalledRules(location, true, marker, entries, problems)
                : InstalledRules.absent(location);
    }

    /** The one DNAT of ours in our chain, and its marker; anything else there is a problem. */
    private record OurDnat(Optional<IptablesRules.RedirectTarget> target, Optional<OwnershipMarker> marker) {
    }

    private static OurDnat ourDnat(FamilyState state, List<String> problems) {
        OurDnat found = new OurDnat(Optional.empty(), Optional.empty());
        for (NftRule rule : state.chain()) {
            Optional<IptablesRules.RedirectTarget> t = IptablesRules.dnatTarget(rule, state.family());
            Optional<OwnershipMarker> m = OwnershipMarker.parse(rule.comment());
            if (t.isEmpty() || m.isEmpty()) {
                problems.add(state.where() + ": foreign rule in chain " + CHAIN + " (handle " + rule.handle() + "): " + names(rule));
            } else if (found.target().isPresent()) {
                problems.add(state.where() + ": more than one DNAT in chain " + CHAIN + " (handle " + rule.handle() + ")");
            } else {
                found = new OurDnat(t, m);
            }
        }
        return found;
    }

    /** Our jumps in PREROUTING as redirect entries (to {@code target}); foreign and duplicate jumps are problems. */
    private static void readJumps(FamilyState state, Optional<IptablesRules.RedirectTarget> target, List<InstalledRules.Entry> entries,
                                  List<String> problems) {
        IpFamily family = state.family();
        Map<IptablesRules.Jump, List<Long>> handles = new LinkedHashMap<>();
        for (NftRule rule : state.prerouting()) {
            Optional<IptablesRules.Jump> jump = IptablesRules.jumpOf(rule, family, CHAIN);
            if (jump.isPresent() && OwnershipMarker.parse(rule.comment()).isPresent()) {
                handles.computeIfAbsent(jump.get(), i -> new ArrayList<>()).add(rule.handle());
                if (target.isPresent()) {
                    entries.add(new InstalledRules.Entry(new RedirectRule(family, jump.get().iface(), target.get().address(),
                            target.get().port(), jump.get().destination()), rule.handle(), NftRedirectRules.packets(rule)));
                }
            } else if (IptablesChains.jumpsToOurs(rule)) {
                problems.add(state.where() + ": foreign jump to " + CHAIN + " (handle " + rule.handle() + "): " + names(rule));
            }
        }
        handles.forEach((jump, hs) -> {
            if (hs.size() > 1) {
                problems.add(state.where() + ": duplicate jump for " + jump.iface()
                        + (jump.destination() == Destination.IMDS ? "" : " to " + jump.destination().address(family).getHostAddress())
                        + " (" + hs.size() + " copies, handles " + hs + ")");
            }
        });
    }

    /**
     * DNATs of metadata traffic in PREROUTING that are not ours, such as kube2iam's: they compete with
     * ours for the same packets. Reported by doctor; removed on install with --adopt-kube2iam-rules.
     */
    public List<String> competingRules() {
        List<String> found = new ArrayList<>();
        try (NftTables dump = tables.open()) {
            for (IpFamily family : IpFamily.values()) {
                FamilyState state = IptablesChains.read(dump, family);
                for (NftRule rule : state.prerouting()) {
                    if (IptablesRules.isForeignMetadataDnat(rule, family)) {
                        found.add(state.where() + " PREROUTING handle " + rule.handle() + ": " + names(rule));
                    }
                }
            }
        }
        return found;
    }

    /**
     * Whether this network namespace has an iptables nat table on the legacy x_tables backend, which
     * nf_tables (and so this backend) cannot see or write. The nftables backend works there regardless.
     */
    public static boolean legacyNatInUse() {
        try {
            // thread-self: the network namespace of this thread, which is where the socket would be opened.
            return Files.readAllLines(Path.of("/proc/thread-self/net/ip_tables_names")).contains("nat");
        } catch (IOException e) {
            return false;
        }
    }

    private static String names(NftRule rule) {
        return rule.expressions().stream().map(e -> e instanceof Compat t ? t.name() + " " + t.xtName()
                : e instanceof Verdict v && v.chain() != null ? "jump " + v.chain() : e.name()).collect(Collectors.joining(" "));
    }
}
