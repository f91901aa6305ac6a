package io.iamlet.control.pods;

/** The answer to "which pod has this IP": exactly one live pod, or why not. */
public sealed interface PodLookup {
    record Found(PodInfo pod) implements PodLookup {
    }

    /** No live pod owns the IP (404). */
    record NotFound(String reason) implements PodLookup {
    }

    /** The index is not current and the API server could not settle who has the IP (503): never the index's guess. */
    record Unavailable(String reason) implements PodLookup {
    }

    /**
     * The caller is refused outright (403): its cgroup names no pod, or the kernel's identity and the address
     * name different pods. Never the index's guess, never the node's role.
     */
    record Refused(String reason) implements PodLookup {
    }

    /** Several live pods claim the IP and the API could not settle it: never guess (409). */
    record Ambiguous(String reason) implements PodLookup {
    }
}
