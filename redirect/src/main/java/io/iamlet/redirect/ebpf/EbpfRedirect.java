package io.iamlet.redirect.ebpf;

import io.iamlet.redirect.Backend;
import io.iamlet.redirect.Redirect;
import io.iamlet.redirect.Shown;
import io.iamlet.redirect.RedirectSpec;
import io.iamlet.redirect.RuleCheck;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The eBPF backend: connect4 and connect6 programs on the pods' cgroup, and a sock_ops program that tells the agent which
 * cgroup made each connection. It sees sockets, not interfaces, so the spec's interface patterns do not
 * apply: every process under the cgroup but the agent's own is redirected, and the install says so.
 *
 * @param cgroup the pods' cgroup v2 directory; needed to install or block, and compared by show when known
 */
public record EbpfRedirect(CgroupRedirect program, Optional<Path> cgroup) implements Redirect {
    @Override
    public Backend backend() {
        return Backend.EBPF;
    }

    private CgroupRedirect.Target target(RedirectSpec spec) {
        Path where = cgroup.orElseThrow(() -> new IllegalArgumentException("the eBPF backend needs the pods' cgroup v2 directory"));
        // The agent's own cgroup keeps the real IMDS; every other process under the pods' cgroup, hostNetwork
        // pods included, is redirected. Where the agent cannot name its cgroup, the node's namespace is exempt.
        return new CgroupRedirect.Target(where, spec.hostIp(), spec.port(), spec.containerCredentials(),
                CgroupRedirect.ownCgroupId().orElse(0), spec.hostIpv6());
    }

    @Override
    public Shown install(RedirectSpec spec) {
        CgroupRedirect.Attached attached = program.install(target(spec));
        return new Shown(Backend.EBPF, attached.toString(), attached + "\n  interfaces " + spec.interfaces()
                + " are not used: the program redirects every process under " + cgroup.orElseThrow() + "\n", new RuleCheck.AsExpected());
    }

    @Override
    public Shown block(RedirectSpec spec) {
        CgroupRedirect.Attached attached = program.block(target(spec));
        return new Shown(Backend.EBPF, attached + ": blocking", attached + "\n", new RuleCheck.AsExpected());
    }

    @Override
    public String remove() {
        program.remove();
        return "detached and unpinned the eBPF program (if it was there); nothing else was touched";
    }

    @Override
    public Shown show(Optional<RedirectSpec> expected) {
        Optional<CgroupRedirect.Attached> attached = program.show();
        if (attached.isEmpty()) {
            String absent = "no link pinned at " + program.linkPin() + ": pods are not redirected";
            return new Shown(Backend.EBPF, absent, "eBPF link " + program.linkPin() + ": not pinned\n", new RuleCheck.Absent(absent));
        }
        CgroupRedirect.Attached a = attached.get();
        List<String> problems = new ArrayList<>();
        if (a.blocking()) {
            problems.add("blocking, left by a stopping agent until the next install");
        } else if (cgroup.isPresent() && a.cgroupId() != CgroupRedirect.cgroupId(cgroup.get())) {
            problems.add("attached to another cgroup than " + cgroup.get());
        } else if (expected.isPresent() && cgroup.isPresent()) {
            RedirectSpec spec = expected.get();
            ConnectProgram wanted = new ConnectProgram(ConnectProgram.Kind.REDIRECT, spec.hostIp(), spec.port(),
                    CgroupRedirect.currentNetnsCookie(), spec.containerCredentials(), CgroupRedirect.ownCgroupId().orElse(0), spec.hostIpv6());
            if (!wanted.tags().contains(a.tag())) {
                problems.add("the program is not the one asked for (another host IP, port or set of destinations)");
            }
            Optional<CgroupRedirect.Attached> six = program.show(ConnectProgram.Hook.CONNECT6);
            if (six.isEmpty()) {
                problems.add("no connect6 link at " + program.linkPin(ConnectProgram.Hook.CONNECT6)
                        + ": dual-stack sockets (a JVM's) are not redirected; the next install adds it");
            } else if (six.get().cgroupId() != a.cgroupId() || !wanted.tags(ConnectProgram.Hook.CONNECT6).contains(six.get().tag())) {
                problems.add("the connect6 program is not the one asked for (another IPv6 host address, or none): " + six.get());
            }
        }
        String links = a + program.show(ConnectProgram.Hook.CONNECT6).map(six -> "\n" + six).orElse("");
        RuleCheck check = problems.isEmpty() ? new RuleCheck.AsExpected() : new RuleCheck.Unexpected(problems);
        return new Shown(Backend.EBPF, problems.isEmpty() ? a.toString() : a + ": " + String.join("; ", problems),
                links + "\n" + problems.stream().map(p -> "  problem: " + p + "\n").reduce("", String::concat), check);
    }
}
