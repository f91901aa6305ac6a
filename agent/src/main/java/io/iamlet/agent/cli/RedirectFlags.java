package io.iamlet.agent.cli;

import io.iamlet.agent.Version;
import io.iamlet.redirect.ebpf.CgroupRedirect;
import io.iamlet.redirect.InterfacePattern;
import io.iamlet.redirect.RedirectSpec;
import io.iamlet.redirect.Backend;
import io.iamlet.redirect.Redirects;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The flags `run`, `rules`, `doctor` and `uninstall` share, read one way: the node's address and name with
 * their downward-API fallbacks (HOST_IP, NODE_NAME), the backend, the redirect spec and the redirect layer.
 */
final class RedirectFlags {
    private RedirectFlags() {
    }

    /** --host-ip, else env HOST_IP (a DaemonSet sets it from status.hostIP). */
    static Optional<String> hostIp(Flags f, Map<String, String> env) {
        return f.get("host-ip").or(() -> Optional.ofNullable(env.get("HOST_IP"))).filter(s -> !s.isBlank());
    }

    /** --node, else env NODE_NAME (a DaemonSet sets it from spec.nodeName). */
    static Optional<String> nodeName(Flags f, Map<String, String> env) {
        return f.get("node").or(() -> Optional.ofNullable(env.get("NODE_NAME"))).filter(s -> !s.isBlank());
    }

    static Backend backend(Flags f) {
        try {
            return Backend.parse(f.require("backend"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--backend " + e.getMessage());
        }
    }

    /** --container-credentials=on|off: whether the redirect also takes the EKS Pod Identity endpoint. */
    static boolean containerCredentials(Flags f) {
        return switch (f.require("container-credentials")) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new UsageException("--container-credentials takes on or off, not '" + f.require("container-credentials") + "'");
        };
    }

    /** The spec, each field parsed on its own so that a message names its flag: "--host-ip is required ...". */
    static RedirectSpec spec(Flags f, String hostIp, int appPort) {
        // Where the value comes from in a deployment is the CLI's to say, not the library's.
        return new RedirectSpec(flag("--host-ip", () -> RedirectSpec.parseHostIp(hostIp),
                hostIp == null || hostIp.isBlank() ? " (or env HOST_IP; in a DaemonSet, from the downward API: status.hostIP)" : ""), appPort,
                flag("--host-interface:", () -> InterfacePattern.parseList(f.require("host-interface"))),
                f.get("host-ipv6").map(v6 -> flag("--host-ipv6", () -> RedirectSpec.parseHostIpv6(v6))),
                containerCredentials(f));
    }

    private static <T> T flag(String name, Supplier<T> parse) {
        return flag(name, parse, "");
    }

    /** The library's message about one value, under the flag that gave it, and what the CLI adds ({@code advice}). */
    private static <T> T flag(String name, Supplier<T> parse, String advice) {
        try {
            return parse.get();
        } catch (UsageException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new UsageException(name + " " + e.getMessage() + advice);
        }
    }

    /** The pods' cgroup for the eBPF backend: --cgroup, else the kubelet's kubepods slice if this node has one. */
    static Optional<Path> cgroup(Flags f) {
        return f.get("cgroup").map(Path::of).or(CgroupRedirect::podCgroup);
    }

    /** The pods' cgroup, which the eBPF backend cannot install without. */
    static Path requireCgroup(Flags f) {
        return cgroup(f).orElseThrow(() -> new UsageException(
                "--backend=ebpf needs the pods' cgroup: none of /sys/fs/cgroup{,/unified}/kubepods{.slice,} exists; set --cgroup"));
    }

    /** The redirect layer with these flags (the flags a command does not define take their defaults). */
    static Redirects redirects(Flags f) {
        return new Redirects(Version.current(), f.bool("adopt-kube2iam-rules"),
                Path.of(f.get("bpf-pin-dir").orElse(CgroupRedirect.DEFAULT_PIN_DIR.toString())), cgroup(f));
    }
}
