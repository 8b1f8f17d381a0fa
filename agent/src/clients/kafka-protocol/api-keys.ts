// The Kafka APIs Drover speaks, in one table: the name Kafka's protocol guide uses and its API key.
// Codecs written here (ElectLeaders) and the @platformatic/kafka low-level APIs the client calls
// both take their key from this table, so a key is never a bare number elsewhere.

export const API_KEYS = {
  Metadata: 3,
  ApiVersions: 18,
  DescribeConfigs: 32,
  DescribeLogDirs: 35,
  ElectLeaders: 43,
  IncrementalAlterConfigs: 44,
  AlterPartitionReassignments: 45,
  ListPartitionReassignments: 46,
} as const;

export type ApiName = keyof typeof API_KEYS;
