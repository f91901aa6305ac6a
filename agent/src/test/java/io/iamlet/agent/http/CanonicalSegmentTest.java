package io.iamlet.agent.http;

import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** The loop that replaced the segment expression on the request path says what the expression said. */
class CanonicalSegmentTest {
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_~:+=,@-]([A-Za-z0-9._~:+=,@-]*[A-Za-z0-9_~:+=,@-])?");

    @Test
    void agreesWithTheExpressionOn200000Strings() {
        Random random = new Random(7);
        String alphabet = "aZ09._~:+=,@-%/ ?#\\é";
        for (int i = 0; i < 200_000; i++) {
            int length = random.nextInt(8);
            StringBuilder b = new StringBuilder();
            for (int j = 0; j < length; j++) {
                b.append(random.nextInt(3) == 0 ? alphabet.charAt(random.nextInt(alphabet.length())) : 'x');
            }
            String s = b.toString();
            assertEquals(SEGMENT.matcher(s).matches(), MetadataProxy.canonicalSegment(s), "'" + s + "'");
        }
    }
}
