/** iamlet control module: see the module's pom description. */
package io.iamlet.control;
