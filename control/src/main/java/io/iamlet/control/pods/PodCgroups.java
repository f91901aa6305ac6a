package io.iamlet.control.pods;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which pod a cgroup belongs to, from the kubelet's names for its cgroups under the pods' cgroup:
 * <ul>
 * <li>systemd driver: {@code kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid with _>.slice/cri-containerd-<id>.scope}
 * (also {@code crio-}, {@code docker-} scopes; Guaranteed pods without the QoS level: {@code kubepods-pod<uid>.slice});</li>
 * <li>cgroupfs driver: {@code kubepods/burstable/pod<uid>/<id>} (Guaranteed: {@code kubepods/pod<uid>/<id>}).</li>
 * </ul>
 * A cgroup's id, what the kernel records, is the inode number of its directory. The index is rebuilt by a
 * walk of the pods' cgroup when asked for an id it does not know, so cgroups that appeared are found and
 * those that went are forgotten; ids are never reused while the machine runs, so a hit is always right.
 * <p>A cgroup a walk found to be no pod's (a stray: a QoS slice, a directory someone else made) is answered
 * from memory for {@link #STRAY_RECHECK}: its name cannot change into a pod's, so a process there asking
 * at its request rate must not make the agent walk the tree at that rate. New pods' cgroups are new ids, and
 * still walked for at once.
 */
public final class PodCgroups {
    private static final Pattern SYSTEMD = Pattern.compile("kubepods(?:-[a-z]+)?-pod([0-9a-fA-F_]{8,64})\\.slice");
    private static final Pattern CGROUPFS = Pattern.compile("pod([0-9a-fA-F-]{8,64})");
    private static final int DEPTH = 5;
    /** How long a stray cgroup's answer is kept before the next walk for it. */
    static final Duration STRAY_RECHECK = Duration.ofSeconds(5);
    /** Strays remembered at most; past that the memory starts again (each then costs one walk). */
    private static final int STRAYS = 4096;

    private final Path root;
    private volatile Map<Long, String> uids = Map.of();
    private long lastScanStarted;
    private final ConcurrentHashMap<Long, Long> strays = new ConcurrentHashMap<>();
    private final AtomicLong walks = new AtomicLong();

    /** @param root the pods' cgroup: the kubelet's kubepods slice or directory, as the agent sees it */
    public PodCgroups(Path root) {
        this.root = root;
    }

    /** What the kernel's cgroup id says about the caller. */
    public sealed interface Owner {
        /** A pod's cgroup (the pod's own or one of its containers'). */
        record Pod(String uid, long cgroupId) implements Owner {
        }

        /** Under the pods' cgroup, but not one of a pod: a QoS slice, or a cgroup made by someone else. */
        record NoPod(long cgroupId) implements Owner {
        }
    }

    /** The pod uid a cgroup directory's name carries, if it is a pod's cgroup. */
    public static Optional<String> podUid(String directoryName) {
        Matcher systemd = SYSTEMD.matcher(directoryName);
        if (systemd.matches()) {
            return Optional.of(systemd.group(1).replace('_', '-'));
        }
        Matcher cgroupfs = CGROUPFS.matcher(directoryName);
        return cgroupfs.matches() ? Optional.of(cgroupfs.group(1)) : Optional.empty();
    }

    /** The owner of the cgroup with this id; a walk of the pods' cgroup when the id is new. */
    public Owner owner(long cgroupId) {
        long asked = System.nanoTime();
        String uid = uids.get(cgroupId);
        if (uid == null) {
            Long strayAt = strays.get(cgroupId);
            if (strayAt != null && asked - strayAt < STRAY_RECHECK.toNanos()) {
                return new Owner.NoPod(cgroupId);
            }
            uid = rescan(asked).get(cgroupId);
            if (uid == null) {
                if (strays.size() >= STRAYS) {
                    strays.clear();
                }
                strays.put(cgroupId, System.nanoTime());
            }
        }
        return uid == null ? new Owner.NoPod(cgroupId) : new Owner.Pod(uid, cgroupId);
    }

    /** How many walks of the pods' cgroup were made (for tests and metrics). */
    public long walks() {
        return walks.get();
    }

    /** How many cgroups of pods the index knows. */
    public int size() {
        return uids.size();
    }

    /** One walk at a time; a request that waited for a walk begun after it asked takes that walk's answer. */
    private synchronized Map<Long, String> rescan(long asked) {
        if (lastScanStarted - asked > 0) {
            return uids;
        }
        lastScanStarted = System.nanoTime();
        walks.incrementAndGet();
        Map<Long, String> found = new HashMap<>();
        try {
            Files.walkFileTree(root, Set.of(), DEPTH, new PodCgroupWalk(root, found));
        } catch (NoSuchFileException e) {
            throw new IllegalStateException("the pods' cgroup " + root + " is gone; the kernel's identity of callers cannot be read", e);
        } catch (IOException e) {
            throw new UncheckedIOException("walk the pods' cgroup " + root + ": " + e.getMessage(), e);
        }
        uids = Map.copyOf(found);
        return uids;
    }

    /** Each directory below a pod's own cgroup directory (its containers') is that pod's: inode → pod uid into {@code found}. */
    private static final class PodCgroupWalk extends SimpleFileVisitor<Path> {
        private final Path root;
        private final Map<Long, String> found;
        private final ArrayDeque<String> podOfLevel = new ArrayDeque<>();

        PodCgroupWalk(Path root, Map<Long, String> found) {
            this.root = root;
            this.found = found;
        }

        @Override
        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
            String inherited = podOfLevel.isEmpty() ? "" : podOfLevel.peek();
            String uid = !inherited.isEmpty() || dir.equals(root) ? inherited : podUid(dir.getFileName().toString()).orElse("");
            podOfLevel.push(uid);
            if (!uid.isEmpty()) {
                found.put((Long) Files.getAttribute(dir, "unix:ino"), uid);
            }
            return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
            return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFileFailed(Path file, IOException e) {
            // A cgroup removed during the walk: its pod is gone.
            return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path dir, IOException e) {
            podOfLevel.pop();
            return FileVisitResult.CONTINUE;
        }
    }
}
