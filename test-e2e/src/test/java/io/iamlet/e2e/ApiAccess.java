package io.iamlet.e2e;

import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;

import java.net.URI;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What RBAC decides on for one API request: its verb, API group and resource ("pods", "pods/log"), derived from
 * the request's method and path the way the API server's request-info does it. Hand-written because no client
 * library exposes that mapping; it covers resource requests, which are all the agent makes.
 */
public record ApiAccess(String group, String resource, String verb) implements Comparable<ApiAccess> {

    public static ApiAccess of(String method, String pathAndQuery) {
        URI uri = URI.create(pathAndQuery);
        List<String> parts = Arrays.stream(uri.getPath().split("/")).filter(s -> !s.isEmpty()).toList();
        String group;
        List<String> rest;
        if (parts.size() >= 2 && parts.get(0).equals("api")) {
            group = "";
            rest = parts.subList(2, parts.size());
        } else if (parts.size() >= 3 && parts.get(0).equals("apis")) {
            group = parts.get(1);
            rest = parts.subList(3, parts.size());
        } else {
            throw new IllegalArgumentException("not a resource request: " + method + " " + pathAndQuery);
        }
        // /namespaces/NS/RESOURCE[/NAME[/SUB]] is namespaced; /namespaces[/NAME] is the namespaces resource itself.
        if (rest.size() >= 3 && rest.get(0).equals("namespaces")) {
            rest = rest.subList(2, rest.size());
        }
        if (rest.isEmpty()) {
            throw new IllegalArgumentException("no resource in " + pathAndQuery);
        }
        String resource = rest.get(0) + (rest.size() >= 3 ? "/" + rest.get(2) : "");
        boolean named = rest.size() >= 2;
        String query = uri.getQuery() == null ? "" : uri.getQuery();
        boolean watch = Arrays.asList(query.split("&")).contains("watch=true") || Arrays.asList(query.split("&")).contains("watch=1");
        String verb = switch (method) {
            case "GET", "HEAD" -> watch ? "watch" : named ? "get" : "list";
            case "POST" -> "create";
            case "PUT" -> "update";
            case "PATCH" -> "patch";
            case "DELETE" -> named ? "delete" : "deletecollection";
            default -> throw new IllegalArgumentException("unexpected method " + method);
        };
        return new ApiAccess(group, resource, verb);
    }

    /** Every (group, resource, verb) a ClusterRole's rules grant, spelled out; wildcards are refused. */
    public static Set<ApiAccess> granted(ClusterRole role) {
        Set<ApiAccess> out = new TreeSet<>();
        for (PolicyRule rule : role.getRules()) {
            if (rule.getNonResourceURLs() != null && !rule.getNonResourceURLs().isEmpty()) {
                throw new AssertionError("a non-resource rule the agent never needs: " + rule);
            }
            for (String group : rule.getApiGroups()) {
                for (String resource : rule.getResources()) {
                    for (String verb : rule.getVerbs()) {
                        if (group.equals("*") || resource.equals("*") || verb.equals("*")) {
                            throw new AssertionError("a wildcard grants more than the agent uses: " + rule);
                        }
                        out.add(new ApiAccess(group, resource, verb));
                    }
                }
            }
        }
        return out;
    }

    @Override
    public int compareTo(ApiAccess o) {
        return toString().compareTo(o.toString());
    }

    @Override
    public String toString() {
        return verb + " " + (group.isEmpty() ? "" : group + "/") + resource;
    }
}
