// The simulated data plane of a rehearsal: simulated time, the fluid network, and the Kafka,
// Cassandra and ZooKeeper effects the migration steps have. Pure code: no I/O, no real time
// (except ScaledClock, which maps simulated time to real time for whoever wants to watch).
export * from './cassandra.ts';
export * from './clock.ts';
export * from './costs.ts';
export * from './kafka.ts';
export * from './network.ts';
export * from './simulation.ts';
export * from './zookeeper.ts';
