package io.iamlet.netlink.testing;

import io.iamlet.netlink.NetlinkException;
import io.iamlet.netlink.ffm.Errno;
import io.iamlet.netlink.nft.NftChain;
import io.iamlet.netlink.nft.NftOp.Verb;
import io.iamlet.netlink.nft.NftOp;
import io.iamlet.netlink.nft.NftRule;
import io.iamlet.netlink.nft.NftTable;
import io.iamlet.netlink.nft.NftTables;
import io.iamlet.netlink.nft.Transaction;
import io.iamlet.netlink.nft.expr.NftExpr;
import io.iamlet.netlink.nft.expr.Verdict;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model of nf_tables that applies transactions with the kernel's semantics that matter to the backends:
 * add creates if absent and create fails with EEXIST, destroy removes what is there, delete and flush fail with ENOENT on what is not
 * there, a chain cannot go while it holds rules or is jumped to (EBUSY), a jump needs its chain, rules get
 * handles, and a batch is applied whole or not at all. Kernel tests apply the same plans to both and compare.
 * One instance is one network namespace; {@link #opener} hands out sessions on it.
 */
public final class FakeNftTables implements NftTables {
    private record Key(int family, String name) {
    }

    private static final class Table {
        final NftTable table;
        final Map<String, Chain> chains = new LinkedHashMap<>();

        Table(NftTable table) {
            this.table = table;
        }

        Table copy() {
            Table t = new Table(table);
            chains.forEach((name, chain) -> t.chains.put(name, chain.copy()));
            return t;
        }
    }

    private static final class Chain {
        final NftChain chain;
        final List<NftRule> rules = new ArrayList<>();

        Chain(NftChain chain) {
            this.chain = chain;
        }

        Chain copy() {
            Chain c = new Chain(chain);
            c.rules.addAll(rules);
            return c;
        }
    }

    private Map<Key, Table> tables = new LinkedHashMap<>();
    private long nextHandle = 1;
    private final List<List<NftOp>> applied = new ArrayList<>();

    public NftTables.Opener opener() {
        return () -> this;
    }

    /** Every transaction applied so far, in order (refused ones are not). */
    public List<List<NftOp>> applied() {
        return List.copyOf(applied);
    }

    @Override
    public synchronized Optional<NftTable> table(int family, String name) {
        return Optional.ofNullable(tables.get(new Key(family, name))).map(t -> t.table);
    }

    @Override
    public synchronized List<NftTable> tables(int family) {
        return tables.values().stream().map(t -> t.table).filter(t -> t.family() == family).toList();
    }

    @Override
    public synchronized List<NftChain> chains(int family, String table) {
        Table t = tables.get(new Key(family, table));
        return t == null ? List.of() : t.chains.values().stream().map(c -> c.chain).toList();
    }

    @Override
    public synchronized List<NftRule> rules(int family, String table) {
        Table t = tables.get(new Key(family, table));
        return t == null ? List.of() : t.chains.values().stream().flatMap(c -> c.rules.stream()).toList();
    }

    @Override
    public synchronized void apply(Transaction plan, String task) {
        Map<Key, Table> work = new LinkedHashMap<>();
        tables.forEach((k, t) -> work.put(k, t.copy()));
        long handle = nextHandle;
        for (NftOp op : plan.ops()) {
            int errno = applyOne(work, op, handle);
            if (errno != 0) {
                throw new NetlinkException(task + " (step: " + op.describe() + ")", errno, "");
            }
            if (op.object() instanceof NftRule && (op.verb() == Verb.ADD || op.verb() == Verb.INSERT)) {
                handle++;
            }
        }
        tables = work;
        nextHandle = handle;
        applied.add(plan.ops());
    }

    private static int applyOne(Map<Key, Table> work, NftOp op, long handle) {
        return switch (op.object()) {
            case NftTable table -> applyToTable(work, op.verb(), table);
            case NftChain chain -> applyToChain(work, op.verb(), chain);
            case NftRule rule -> applyToRule(work, op.verb(), rule, handle);
        };
    }

    private static int applyToTable(Map<Key, Table> work, Verb verb, NftTable table) {
        Key key = new Key(table.family(), table.name());
        switch (verb) {
            case ADD -> work.computeIfAbsent(key, k -> new Table(new NftTable(table.family(), table.name(), null)));
            case CREATE -> {
                if (work.putIfAbsent(key, new Table(table)) != null) {
                    return Errno.EEXIST;
                }
            }
            case DELETE -> {
                if (work.remove(key) == null) {
                    return Errno.ENOENT;
                }
            }
            case DESTROY -> work.remove(key);
            default -> throw new IllegalArgumentException(verb + " table");
        }
        return 0;
    }

    private static int applyToChain(Map<Key, Table> work, Verb verb, NftChain chain) {
        Table t = work.get(new Key(chain.family(), chain.table()));
        Chain c = t == null ? null : t.chains.get(chain.name());
        if (t == null || (c == null && verb != Verb.ADD)) {
            return Errno.ENOENT;
        }
        switch (verb) {
            case ADD -> t.chains.computeIfAbsent(chain.name(), n -> new Chain(chain));
            case DELETE -> {
                boolean jumpedTo = t.chains.values().stream().flatMap(x -> x.rules.stream())
                        .anyMatch(r -> r.expressions().stream().anyMatch(e -> e instanceof Verdict v && chain.name().equals(v.chain())));
                if (!c.rules.isEmpty() || jumpedTo) {
                    return Errno.EBUSY;
                }
                t.chains.remove(chain.name());
            }
            case FLUSH -> c.rules.clear();
            default -> throw new IllegalArgumentException(verb + " chain");
        }
        return 0;
    }

    private static int applyToRule(Map<Key, Table> work, Verb verb, NftRule rule, long handle) {
        Table t = work.get(new Key(rule.family(), rule.table()));
        Chain c = t == null ? null : t.chains.get(rule.chain());
        if (c == null) {
            return Errno.ENOENT;
        }
        if (verb == Verb.DELETE) {
            return c.rules.removeIf(r -> r.handle() == rule.handle()) ? 0 : Errno.ENOENT;
        }
        for (NftExpr e : rule.expressions()) {
            if (e instanceof Verdict v && v.chain() != null && !t.chains.containsKey(v.chain())) {
                return Errno.ENOENT;
            }
        }
        NftRule stored = new NftRule(rule.family(), rule.table(), rule.chain(), handle, rule.expressions(), rule.comment());
        if (verb == Verb.INSERT) {
            c.rules.addFirst(stored);
        } else {
            c.rules.add(stored);
        }
        return 0;
    }

    /** A session on the model holds nothing to release. */
    @Override
    public void close() {
    }
}
