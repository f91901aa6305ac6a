package io.iamlet.agent.http;

/** Whether pods must use IMDSv2 (--imds-v2). */
public enum ImdsV2 { OPTIONAL, REQUIRED }
