package io.iamlet.control.pods;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** The kubelet's cgroup names (both drivers, every runtime's scope) read back as pod uids; a plain directory tree stands for cgroupfs. */
class PodCgroupsTest {
    private static final String UID = "5f0e3c1a-9b2d-4c6e-8f7a-1b2c3d4e5f60";

    private static long id(Path dir) throws Exception {
        return (Long) Files.getAttribute(dir, "unix:ino");
    }

    @Test
    void namesOfBothDriversCarryTheUid() {
        String underscores = UID.replace('-', '_');
        assertEquals(Optional.of(UID), PodCgroups.podUid("kubepods-burstable-pod" + underscores + ".slice"));
        assertEquals(Optional.of(UID), PodCgroups.podUid("kubepods-besteffort-pod" + underscores + ".slice"));
        assertEquals(Optional.of(UID), PodCgroups.podUid("kubepods-pod" + underscores + ".slice"), "Guaranteed: no QoS level");
        assertEquals(Optional.of(UID), PodCgroups.podUid("pod" + UID), "cgroupfs");
        assertEquals(Optional.empty(), PodCgroups.podUid("kubepods-burstable.slice"));
        assertEquals(Optional.empty(), PodCgroups.podUid("burstable"));
        assertEquals(Optional.empty(), PodCgroups.podUid("cri-containerd-abc.scope"));
        assertEquals(Optional.empty(), PodCgroups.podUid("pod"));
    }

    @Test
    void systemdContainersOfEveryRuntimeAndThePodSliceNameThePod(@TempDir Path tmp) throws Exception {
        Path root = Files.createDirectory(tmp.resolve("kubepods.slice"));
        Path qos = Files.createDirectory(root.resolve("kubepods-burstable.slice"));
        Path pod = Files.createDirectory(qos.resolve("kubepods-burstable-pod" + UID.replace('-', '_') + ".slice"));
        Path containerd = Files.createDirectory(pod.resolve("cri-containerd-0123abcd.scope"));
        Path crio = Files.createDirectory(pod.resolve("crio-4567ef.scope"));
        Path docker = Files.createDirectory(pod.resolve("docker-89ab.scope"));
        Path guaranteed = Files.createDirectories(root.resolve("kubepods-pod11111111_2222_3333_4444_555555555555.slice/cri-containerd-1.scope"));
        PodCgroups cgroups = new PodCgroups(root);
        for (Path p : List.of(pod, containerd, crio, docker)) {
            assertEquals(new PodCgroups.Owner.Pod(UID, id(p)), cgroups.owner(id(p)), p.toString());
        }
        assertEquals(new PodCgroups.Owner.Pod("11111111-2222-3333-4444-555555555555", id(guaranteed)), cgroups.owner(id(guaranteed)));
        assertEquals(new PodCgroups.Owner.NoPod(id(qos)), cgroups.owner(id(qos)), "a QoS slice is no pod");
        assertEquals(new PodCgroups.Owner.NoPod(id(root)), cgroups.owner(id(root)));
    }

    @Test
    void cgroupfsLayoutAndCgroupsThatAppearAndGo(@TempDir Path tmp) throws Exception {
        Path root = Files.createDirectory(tmp.resolve("kubepods"));
        PodCgroups cgroups = new PodCgroups(root);
        Path container = Files.createDirectories(root.resolve("burstable/pod" + UID + "/0123abcd"));
        long id = id(container);
        assertEquals(new PodCgroups.Owner.Pod(UID, id), cgroups.owner(id), "a cgroup made after the index was built is found");
        Path other = Files.createDirectories(root.resolve("pod22222222-2222-2222-2222-222222222222/ef01"));
        assertEquals(new PodCgroups.Owner.Pod("22222222-2222-2222-2222-222222222222", id(other)), cgroups.owner(id(other)));
        Files.delete(container);
        Files.delete(container.getParent());
        cgroups.owner(-1);
        assertEquals(2, cgroups.size(), "a walk forgets the cgroups that went: the other pod and its container");
        assertEquals(new PodCgroups.Owner.NoPod(-1), cgroups.owner(-1));
    }

    @Test
    void aStrayCgroupAskingAtItsRequestRateCostsOneWalkPerRecheckAndNewPodsAreStillFoundAtOnce(@TempDir Path tmp) throws Exception {
        Path root = Files.createDirectory(tmp.resolve("kubepods.slice"));
        Path stray = Files.createDirectories(root.resolve("kubepods-besteffort.slice/not-a-pod.scope"));
        PodCgroups cgroups = new PodCgroups(root);
        for (int i = 0; i < 10_000; i++) {
            assertEquals(new PodCgroups.Owner.NoPod(id(stray)), cgroups.owner(id(stray)));
        }
        assertEquals(1, cgroups.walks(), "10,000 asks from a stray cgroup within " + PodCgroups.STRAY_RECHECK + ": one walk");
        Path pod = Files.createDirectories(root.resolve("kubepods-besteffort.slice/kubepods-besteffort-pod" + UID.replace('-', '_')
                + ".slice/cri-containerd-1.scope"));
        assertEquals(new PodCgroups.Owner.Pod(UID, id(pod)), cgroups.owner(id(pod)), "a new pod's cgroup is walked for at once");
        assertEquals(2, cgroups.walks());
        assertEquals(new PodCgroups.Owner.NoPod(id(stray)), cgroups.owner(id(stray)));
        assertEquals(2, cgroups.walks(), "the stray is still answered from memory");
    }
}
