package io.iamlet.control.pods;

/** How current the index is, for /readyz and the metrics. */
public record Freshness(boolean podsWatching, boolean namespacesWatching, double secondsSincePodEvent,
                        double secondsSinceNamespaceEvent) {
}
