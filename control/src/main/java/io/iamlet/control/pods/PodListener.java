package io.iamlet.control.pods;

/** Told about every pod change the index applies; {@code before} or {@code after} is null for an add or delete. */
@FunctionalInterface
public interface PodListener {
    void podChanged(PodInfo before, PodInfo after);
}
