/** iamlet bpf module: see the module's pom description. */
package io.iamlet.bpf;
