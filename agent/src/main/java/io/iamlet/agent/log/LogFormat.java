package io.iamlet.agent.log;

/** How the log's lines are written (--log-format): one JSON object a line, or kube2iam's text. */
public enum LogFormat { JSON, TEXT }
