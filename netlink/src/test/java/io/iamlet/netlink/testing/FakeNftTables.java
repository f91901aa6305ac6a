package io.iamlet.netlink.testing;

import io.iamlet.netlink.NetlinkException;
import io.iamlet.netlink.ffm.Errno;
import io.iamlet.netlink.nft.NftChain;
import io.iamlet.netlink.nft.NftExpr;
import io.iamlet.netlink.nft.NftOp;
import io.iamlet.netlink.nft.NftRule;
import io.iamlet.netlink.nft.NftTable;
import io.iamlet.netlink.nft.NftTables;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model of nf_tables that applies transactions with the kernel's semantics that matter to the backends:
 * add creates if absent and create fails with EEXIST, delete and flush fail with ENOENT on what is not
 * there, a chain cannot go while it holds rules or is jumped to (EBUSY), a jump needs its chain, rules get
 * handles, and a batch is applied whole or not at all. Kernel tests apply the same plans to both and compare.
 * One instance is one network namespace; {@link #opener} hands out sessions on it.
 */
public final class FakeNftTables implements NftTables {
    private record Key(int family, String name) {
    }

    private static final class Table {
        NftTable table;
        final Map<String, Chain> chains = new LinkedHashMap<>();

        Table copy() {
            Table t = new Table();
            t.table = table;
            chains.forEach((name, chain) -> t.chains.put(name, chain.copy()));
            return t;
        }
    }

    private static final class Chain {
        NftChain chain;
        final List<NftRule> rules = new ArrayList<>();

        Chain copy() {
            Chain c = new Chain();
            c.chain = chain;
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
    public synchronized void apply(List<NftOp> transaction, String task) {
        Map<Key, Table> work = new LinkedHashMap<>();
        tables.forEach((k, t) -> work.put(k, t.copy()));
        long handle = nextHandle;
        for (NftOp op : transaction) {
            int errno = applyOne(work, op, handle);
            if (errno != 0) {
                throw new NetlinkException(task + " (step: " + op.describe() + ")", errno, "");
            }
            if (op instanceof NftOp.AppendRule || op instanceof NftOp.InsertRule) {
                handle++;
            }
        }
        tables = work;
        nextHandle = handle;
        applied.add(List.copyOf(transaction));
    }

    private static int applyOne(Map<Key, Table> work, NftOp op, long handle) {
        switch (op) {
            case NftOp.AddTable(NftTable table) -> {
                work.computeIfAbsent(new Key(table.family(), table.name()), k -> {
                    Table t = new Table();
                    t.table = new NftTable(table.family(), table.name(), null);
                    return t;
                });
                return 0;
            }
            case NftOp.CreateTable(NftTable table) -> {
                if (work.containsKey(new Key(table.family(), table.name()))) {
                    return Errno.EEXIST;
                }
                Table t = new Table();
                t.table = table;
                work.put(new Key(table.family(), table.name()), t);
                return 0;
            }
            case NftOp.DeleteTable(NftTable table) -> {
                return work.remove(new Key(table.family(), table.name())) == null ? Errno.ENOENT : 0;
            }
            case NftOp.AddChain(NftChain chain) -> {
                Table t = work.get(new Key(chain.family(), chain.table()));
                if (t == null) {
                    return Errno.ENOENT;
                }
                t.chains.computeIfAbsent(chain.name(), n -> {
                    Chain c = new Chain();
                    c.chain = chain;
                    return c;
                });
                return 0;
            }
            case NftOp.DeleteChain(NftChain chain) -> {
                Table t = work.get(new Key(chain.family(), chain.table()));
                Chain c = t == null ? null : t.chains.get(chain.name());
                if (c == null) {
                    return Errno.ENOENT;
                }
                boolean jumpedTo = t.chains.values().stream().flatMap(x -> x.rules.stream())
                        .anyMatch(r -> r.expressions().stream().anyMatch(e -> e instanceof NftExpr.Verdict v && chain.name().equals(v.chain())));
                if (!c.rules.isEmpty() || jumpedTo) {
                    return Errno.EBUSY;
                }
                t.chains.remove(chain.name());
                return 0;
            }
            case NftOp.FlushChain(NftChain chain) -> {
                Chain c = chain(work, chain.family(), chain.table(), chain.name());
                if (c == null) {
                    return Errno.ENOENT;
                }
                c.rules.clear();
                return 0;
            }
            case NftOp.AppendRule(NftRule rule) -> {
                return addRule(work, rule, handle, false);
            }
            case NftOp.InsertRule(NftRule rule) -> {
                return addRule(work, rule, handle, true);
            }
            case NftOp.DeleteRule(NftRule rule) -> {
                Chain c = chain(work, rule.family(), rule.table(), rule.chain());
                if (c == null || !c.rules.removeIf(r -> r.handle() == rule.handle())) {
                    return Errno.ENOENT;
                }
                return 0;
            }
        }
    }

    private static Chain chain(Map<Key, Table> work, int family, String table, String chain) {
        Table t = work.get(new Key(family, table));
        return t == null ? null : t.chains.get(chain);
    }

    private static int addRule(Map<Key, Table> work, NftRule rule, long handle, boolean atHead) {
        Table t = work.get(new Key(rule.family(), rule.table()));
        Chain c = t == null ? null : t.chains.get(rule.chain());
        if (c == null) {
            return Errno.ENOENT;
        }
        for (NftExpr e : rule.expressions()) {
            if (e instanceof NftExpr.Verdict v && v.chain() != null && !t.chains.containsKey(v.chain())) {
                return Errno.ENOENT;
            }
        }
        NftRule stored = new NftRule(rule.family(), rule.table(), rule.chain(), handle, rule.expressions(), rule.comment());
        if (atHead) {
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
