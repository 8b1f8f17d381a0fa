// Drover's own Kafka protocol pieces, for what the Node clients lack (ElectLeaders), in the kafkajs
// layout: one folder per API and version, the grammar atop each file, `request` only encodes,
// `response` decodes and `parse` turns error codes into typed errors. The API keys live in one table.
export * from './api-keys.ts';
export * from './elect-leaders/index.ts';
export * from './errors.ts';
