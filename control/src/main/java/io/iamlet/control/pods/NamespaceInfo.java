package io.iamlet.control.pods;

import java.util.Map;

/** A namespace's name and annotations (the role restrictions live there). */
public record NamespaceInfo(String name, Map<String, String> annotations) {
    public NamespaceInfo {
        annotations = Map.copyOf(annotations);
    }
}
