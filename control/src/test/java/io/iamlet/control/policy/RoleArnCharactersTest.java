package io.iamlet.control.policy;

import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** The character checks that replaced regular expressions on the request path say what the expressions said. */
class RoleArnCharactersTest {
    private static final Pattern PATH_AND_NAME = Pattern.compile("([\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}");
    private static final Pattern NAME = Pattern.compile("[\\w+=,.@-]*");

    @Test
    void pathAndNameAgreesWithTheExpressionOn200000Strings() {
        Random random = new Random(42);
        String alphabet = "aZ09_+=,.@-//  $é\u0000:";
        for (int i = 0; i < 200_000; i++) {
            int length = random.nextInt(i % 10 == 0 ? 80 : 8);
            StringBuilder b = new StringBuilder();
            for (int j = 0; j < length; j++) {
                b.append(random.nextInt(4) == 0 ? alphabet.charAt(random.nextInt(alphabet.length())) : 'r');
            }
            String s = b.toString();
            assertEquals(PATH_AND_NAME.matcher(s).matches(), RoleArn.validPathAndName(s), "'" + s + "'");
            assertEquals(NAME.matcher(s).matches(), RoleArn.allowedInIam(s, false), "'" + s + "'");
        }
        assertTrue(RoleArn.validPathAndName("team/app/" + "n".repeat(64)));
        assertFalse(RoleArn.validPathAndName("n".repeat(65)));
    }

    @Test
    void sessionNamesThatFitAreKeptAndOthersCleaned() {
        assertEquals("team-a.web-0", SessionNames.fit("team-a.web-0"));
        assertEquals("team-a.web-0-", SessionNames.fit("team-a.web-0$"));
        String longName = "n".repeat(70);
        assertEquals(SessionNames.MAX, SessionNames.fit(longName).length());
    }
}
