package io.iamlet.control.pods;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The pods of this node as last applied, by key, by uid (hostNetwork pods too: what the kernel's identity of
 * a caller names) and by IP (never hostNetwork pods: they share the node's IP). Lookups here never wait and
 * never ask the API server; a waiting lookup waits for {@link #version()} to move.
 */
final class PodTable {
    /** The pods that claim one IP in the table, live or not. */
    record Claim(String ip, List<PodInfo> claimants) {
        List<PodInfo> live() {
            // On every request: one pod per address is the common case, so no stream and no copy for it.
            if (claimants.size() == 1) {
                return claimants.getFirst().live() ? claimants : List.of();
            }
            List<PodInfo> live = new ArrayList<>(claimants.size());
            for (PodInfo pod : claimants) {
                if (pod.live()) {
                    live.add(pod);
                }
            }
            return live;
        }
    }

    private final Map<String, PodInfo> pods = new ConcurrentHashMap<>();
    private final Map<String, PodInfo> byUid = new ConcurrentHashMap<>();
    private final Map<String, Set<String>> keysByIp = new ConcurrentHashMap<>();
    private final List<PodListener> listeners = new CopyOnWriteArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Bumped on every change, so a waiting lookup knows whether to look again without holding a lock while it looks. */
    private final AtomicLong changes = new AtomicLong();

    void addListener(PodListener listener) {
        listeners.add(listener);
    }

    void upsert(PodInfo pod) {
        if (pod.uid() != null) {
            byUid.put(pod.uid(), pod);
        }
        PodInfo before = pod.hostNetwork() ? pods.remove(pod.key()) : pods.put(pod.key(), pod);
        if (before != null && before.uid() != null && !before.uid().equals(pod.uid())) {
            byUid.remove(before.uid());
        }
        if (before != null) {
            before.ips().forEach(ip -> unlink(ip, before.key()));
        }
        if (!pod.hostNetwork()) {
            pod.ips().forEach(ip -> keysByIp.computeIfAbsent(IpAddresses.normalize(ip), k -> ConcurrentHashMap.newKeySet()).add(pod.key()));
        }
        listeners.forEach(l -> l.podChanged(before, pod.hostNetwork() ? null : pod));
        signal();
    }

    void remove(PodInfo pod) {
        PodInfo before = pods.remove(pod.key());
        if (pod.uid() != null) {
            byUid.remove(pod.uid());
        }
        if (before != null && before.uid() != null) {
            byUid.remove(before.uid());
        }
        if (before != null) {
            before.ips().forEach(ip -> unlink(ip, before.key()));
            listeners.forEach(l -> l.podChanged(before, null));
        }
        signal();
    }

    private void unlink(String ip, String key) {
        keysByIp.computeIfPresent(IpAddresses.normalize(ip), (k, keys) -> {
            keys.remove(key);
            return keys.isEmpty() ? null : keys;
        });
    }

    /** The pods that claim {@code ip} (normalized). */
    Claim claim(String ip) {
        String key = IpAddresses.normalize(ip);
        Set<String> keys = keysByIp.get(key);
        if (keys == null) {
            return new Claim(key, List.of());
        }
        List<PodInfo> claimants = new ArrayList<>(2);
        for (String podKey : keys) {
            PodInfo pod = pods.get(podKey);
            if (pod != null) {
                claimants.add(pod);
            }
        }
        return new Claim(key, claimants);
    }

    /** The pod namespace/name. */
    Optional<PodInfo> byKey(String key) {
        return Optional.ofNullable(pods.get(key));
    }

    Optional<PodInfo> byUid(String uid) {
        return Optional.ofNullable(byUid.get(uid));
    }

    List<PodInfo> pods() {
        return List.copyOf(pods.values());
    }

    Set<String> ips() {
        return new LinkedHashSet<>(keysByIp.keySet());
    }

    /** Wakes every waiting lookup: the table, or what decides whether it is current, changed. */
    void signal() {
        changes.incrementAndGet();
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    long version() {
        return changes.get();
    }

    /** Waits up to {@code nanos} for a change after {@code seen} (returns at once if there was one). */
    void awaitChange(long seen, long nanos) throws InterruptedException {
        lock.lock();
        try {
            if (changes.get() == seen) {
                changed.awaitNanos(nanos);
            }
        } finally {
            lock.unlock();
        }
    }
}
