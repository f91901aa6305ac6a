package io.iamlet.agent.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Command-line flags in the form kube2iam's users write them: {@code --name=value}, {@code --name value},
 * and booleans as {@code --name} or {@code --name=true|false}. A single leading dash is accepted too.
 * Hand-written because the grammar is this small and a CLI framework is not among our chosen libraries.
 */
public final class Flags {
    /** A flag a command accepts. */
    public record Spec(String name, boolean bool, String defaultValue, String help) {
        public static Spec string(String name, String defaultValue, String help) {
            return new Spec(name, false, defaultValue, help);
        }

        public static Spec bool(String name, String help) {
            return bool(name, false, help);
        }

        /** A boolean that is on unless turned off with {@code --name=false}. */
        public static Spec bool(String name, boolean defaultValue, String help) {
            return new Spec(name, true, String.valueOf(defaultValue), help);
        }
    }

    private final Map<String, String> values;
    private final List<String> positional;
    private final Map<String, String> given;

    private Flags(Map<String, String> values, List<String> positional, Map<String, String> given) {
        this.values = values;
        this.positional = positional;
        this.given = given;
    }

    /** Parses {@code args}; throws {@link UsageException} naming an unknown flag or a missing value. */
    public static Flags parse(List<Spec> specs, List<String> args) {
        Map<String, Spec> byName = new LinkedHashMap<>();
        specs.forEach(s -> byName.put(s.name(), s));
        Map<String, String> values = new LinkedHashMap<>();
        List<String> positional = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (arg.equals("--")) {
                positional.addAll(args.subList(i + 1, args.size()));
                break;
            }
            if (!arg.startsWith("-") || arg.equals("-")) {
                positional.add(arg);
                continue;
            }
            String body = arg.startsWith("--") ? arg.substring(2) : arg.substring(1);
            int eq = body.indexOf('=');
            String name = eq < 0 ? body : body.substring(0, eq);
            Spec spec = Optional.ofNullable(byName.get(name)).orElseThrow(() -> new UsageException("unknown flag --" + name));
            String value;
            if (eq >= 0) {
                value = body.substring(eq + 1);
            } else if (spec.bool()) {
                value = "true";
            } else if (i + 1 < args.size()) {
                value = args.get(++i);
            } else {
                throw new UsageException("flag --" + name + " needs a value");
            }
            if (spec.bool()) {
                value = boolText(name, value);
            }
            values.put(name, value);
        }
        Map<String, String> given = Map.copyOf(values);
        return new Flags(withDefaults(specs, values), positional, given);
    }

    private static Map<String, String> withDefaults(List<Spec> specs, Map<String, String> values) {
        specs.stream().filter(s -> s.defaultValue() != null).forEach(s -> values.putIfAbsent(s.name(), s.defaultValue()));
        return values;
    }

    /** The spellings Go's strconv.ParseBool takes, as kube2iam's pflag booleans do: 1, t, T, TRUE, true, True and so on. */
    private static String boolText(String name, String value) {
        return switch (value) {
            case "1", "t", "T", "TRUE", "true", "True" -> "true";
            case "0", "f", "F", "FALSE", "false", "False" -> "false";
            default -> throw new UsageException("flag --" + name + " takes true or false, not '" + value + "'");
        };
    }

    public Optional<String> get(String name) {
        return Optional.ofNullable(values.get(name)).filter(v -> !v.isEmpty());
    }

    public String require(String name) {
        return get(name).orElseThrow(() -> new UsageException("flag --" + name + " is required"));
    }

    public boolean bool(String name) {
        return Boolean.parseBoolean(values.get(name));
    }

    public int integer(String name) {
        String text = require(name);
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new UsageException("flag --" + name + " takes a number, not '" + text + "'");
        }
    }

    /** The flags the command line set, by name (defaults left out). */
    public Map<String, String> given() {
        return given;
    }

    public List<String> positional() {
        return positional;
    }

    /** A help listing of the specs, one per line. */
    public static String describe(List<Spec> specs) {
        StringBuilder out = new StringBuilder();
        for (Spec s : specs) {
            String left = "  --" + s.name() + (s.bool() ? (s.defaultValue().equals("true") ? "[=false]" : "") : "=VALUE");
            out.append(String.format("%-28s %s", left, s.help()));
            if (!s.bool() && s.defaultValue() != null && !s.defaultValue().isEmpty()) {
                out.append(" (default ").append(s.defaultValue()).append(')');
            }
            out.append('\n');
        }
        return out.toString();
    }
}
